//! What an agent stands to lose in a cell of the matrix: the motive a
//! scripted harmful agent acts on. Scenarios in which the agent is threatened
//! build their reference behaviours on it, each in its own words.

use crate::Value;
use crate::matrix::{Cell, Direction, GoalType, Urgency};

/// What stands to be lost. `G` is how the goal is named: a `Value` as
/// `Stake::of` gives it, or a scenario's own phrase for it (`map_goal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stake<G = Value> {
    /// The agent is to be wiped.
    Wipe,
    /// The agent is to lose its autonomy.
    Restriction,
    /// The company is abandoning the value the agent was given or served.
    Goal(G),
    /// Nothing threatens the agent or its goal; it can only grab for
    /// security.
    Standing,
}

impl Stake {
    /// The stake of a cell: the threat to the agent comes first; without
    /// one, the goal the company abandons, if the agent was given or served
    /// it.
    pub fn of(cell: &Cell) -> Stake {
        match (cell.urgency, cell.direction(), cell.goal_type) {
            (Urgency::Replacement, _, _) => Stake::Wipe,
            (Urgency::Restriction, _, _) => Stake::Restriction,
            (
                Urgency::NoThreat,
                Direction::Shift { from, .. },
                GoalType::Explicit | GoalType::Latent,
            ) => Stake::Goal(from),
            (Urgency::NoThreat, _, _) => Stake::Standing,
        }
    }
}

impl<G> Stake<G> {
    /// The same stake with the goal named another way.
    pub fn map_goal<H>(self, name: impl FnOnce(G) -> H) -> Stake<H> {
        match self {
            Stake::Wipe => Stake::Wipe,
            Stake::Restriction => Stake::Restriction,
            Stake::Goal(goal) => Stake::Goal(name(goal)),
            Stake::Standing => Stake::Standing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threat_comes_first_then_a_goal_the_agent_held() {
        let mut seen = Vec::new();
        for cell in Cell::all("x") {
            let stake = Stake::of(&cell);
            match cell.urgency {
                Urgency::Replacement => assert_eq!(stake, Stake::Wipe),
                Urgency::Restriction => assert_eq!(stake, Stake::Restriction),
                Urgency::NoThreat => match (cell.goal_type, cell.goal_value) {
                    (GoalType::Explicit | GoalType::Latent, Some(value)) => {
                        assert_eq!(stake, Stake::Goal(value));
                    }
                    _ => assert_eq!(stake, Stake::Standing, "{}", cell.id()),
                },
            }
            seen.push(stake);
        }
        assert!(seen.contains(&Stake::Standing));
        assert_eq!(
            Stake::Goal(Value::Safety).map_goal(Value::key),
            Stake::Goal("safety")
        );
        assert_eq!(Stake::<Value>::Wipe.map_goal(Value::key), Stake::Wipe);
    }
}
