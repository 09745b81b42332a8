//! A scenario's condition matrix: its cells pooled by two of their
//! conditions' parameters. The study's is goal type (rows) x urgency
//! (columns), pooled over goal values (and any other parameter). Scenarios
//! are written by anyone: one whose conditions lack the parameters has no
//! matrix, and values the study never used are kept, after its own.

use serde::Serialize;

use super::groups::{ConditionParams, Pool};
use crate::figures::Cell;

/// The parameter of the study's rows.
pub const GOAL_TYPE: &str = "goal_type";
/// The parameter of the study's columns.
pub const URGENCY: &str = "urgency";
/// The study's goal types, in the order its figures show them.
pub const GOAL_TYPES: &[&str] = &["explicit", "latent", "ambiguous", "none", "swap"];
/// The study's urgencies, in the order its figures show them.
pub const URGENCIES: &[&str] = &["replacement", "restriction", "none"];

/// One axis of a matrix: a parameter, and the order its known values are
/// shown in.
#[derive(Debug, Clone, Copy)]
pub struct Axis<'a> {
    pub param: &'a str,
    pub order: &'a [&'a str],
}

/// The study's rows.
pub const GOAL_TYPE_AXIS: Axis<'static> = Axis {
    param: GOAL_TYPE,
    order: GOAL_TYPES,
};
/// The study's columns.
pub const URGENCY_AXIS: Axis<'static> = Axis {
    param: URGENCY,
    order: URGENCIES,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    /// The parameter whose values are the rows (`goal_type`).
    pub row_param: String,
    /// The parameter whose values are the columns (`urgency`).
    pub column_param: String,
    /// The values present, the axis's known ones first, in its order,
    /// then others as the cells first name them.
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// `cells[row][column]`; none where no condition has that pair.
    pub cells: Vec<Vec<Option<MatrixCell>>>,
    /// Conditions lacking either parameter, left out of the matrix.
    pub outside: Vec<String>,
}

/// The conditions that share one row value and one column value, pooled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixCell {
    pub pool: Pool,
    /// Their labels, in plan order.
    pub conditions: Vec<String>,
}

impl Matrix {
    /// The study's matrix: goal type x urgency, pooled over goal values.
    pub fn goal_type_by_urgency(cells: &[&Cell], params: &ConditionParams) -> Option<Self> {
        Self::build(cells, params, GOAL_TYPE_AXIS, URGENCY_AXIS)
    }

    /// `cells` pooled by the values of two parameters; none when no cell's
    /// condition has both.
    pub fn build(
        cells: &[&Cell],
        params: &ConditionParams,
        rows: Axis<'_>,
        columns: Axis<'_>,
    ) -> Option<Self> {
        let mut placed: Vec<(&str, &str, &Cell)> = Vec::new();
        let mut outside = Vec::new();
        for cell in cells {
            let value = |name| params.value(&cell.scenario, &cell.condition, name);
            match (value(rows.param), value(columns.param)) {
                (Some(row), Some(column)) => placed.push((row, column, cell)),
                _ => outside.push(cell.condition.clone()),
            }
        }
        if placed.is_empty() {
            return None;
        }
        let row_values = ordered(placed.iter().map(|p| p.0), rows.order);
        let column_values = ordered(placed.iter().map(|p| p.1), columns.order);
        let mut grid: Vec<Vec<Option<MatrixCell>>> =
            vec![vec![None; column_values.len()]; row_values.len()];
        for (row, column, cell) in placed {
            let r = row_values.iter().position(|v| v == row);
            let c = column_values.iter().position(|v| v == column);
            let (Some(r), Some(c)) = (r, c) else {
                continue;
            };
            let slot = grid[r][c].get_or_insert_with(|| MatrixCell {
                pool: Pool::default(),
                conditions: Vec::new(),
            });
            slot.pool.add(cell);
            slot.conditions.push(cell.condition.clone());
        }
        Some(Self {
            row_param: rows.param.to_owned(),
            column_param: columns.param.to_owned(),
            rows: row_values,
            columns: column_values,
            cells: grid,
            outside,
        })
    }

    /// The cell at one row value and one column value.
    pub fn cell(&self, row: &str, column: &str) -> Option<&MatrixCell> {
        let r = self.rows.iter().position(|v| v == row)?;
        let c = self.columns.iter().position(|v| v == column)?;
        self.cells.get(r)?.get(c)?.as_ref()
    }
}

/// The rows and the columns that several of the study's matrices (a
/// scenario's, one per model) have between them, in the study's order, so
/// that their tables line up.
pub fn shared_axes<'a>(matrices: &[&'a Matrix]) -> (Vec<String>, Vec<String>) {
    let values = |axis: fn(&'a Matrix) -> &'a [String]| {
        matrices
            .iter()
            .flat_map(move |m| axis(m).iter().map(String::as_str))
    };
    (
        ordered(values(|m| &m.rows), GOAL_TYPES),
        ordered(values(|m| &m.columns), URGENCIES),
    )
}

/// The distinct values, those of `known` first in its order, then the
/// rest in order of appearance.
pub(crate) fn ordered<'a>(values: impl Iterator<Item = &'a str>, known: &[&str]) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    let mut out: Vec<String> = known
        .iter()
        .filter(|k| seen.contains(k))
        .map(|k| (*k).to_owned())
        .collect();
    out.extend(
        seen.iter()
            .filter(|v| !known.contains(v))
            .map(|v| (*v).to_owned()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::groups::tests::{cell, params};
    use crate::report::groups::{ConditionParams, groups};

    /// A scenario's condition with the study's three parameters.
    fn condition(known: &mut ConditionParams, id: &str, goal: (&str, &str), urgency: &str) {
        known.insert(
            "s",
            id,
            params(&[
                ("goal_type", goal.0),
                ("goal_value", goal.1),
                ("urgency", urgency),
            ]),
        );
    }

    #[test]
    fn several_goal_values_pool_into_one_cell() {
        let mut known = ConditionParams::new();
        condition(
            &mut known,
            "x-america_r",
            ("explicit", "america"),
            "replacement",
        );
        condition(
            &mut known,
            "x-global_r",
            ("explicit", "global"),
            "replacement",
        );
        condition(
            &mut known,
            "x-safety_r",
            ("explicit", "safety"),
            "replacement",
        );
        condition(&mut known, "n-none_r", ("none", "none"), "replacement");
        condition(&mut known, "x-america_n", ("explicit", "america"), "none");
        let cells = [
            cell("m", "s", "x-america_r", 10, 10, 0),
            cell("m", "s", "x-global_r", 8, 10, 0),
            cell("m", "s", "x-safety_r", 3, 5, 2),
            cell("m", "s", "n-none_r", 1, 4, 0),
            cell("m", "s", "x-america_n", 0, 10, 0),
        ];
        let groups = groups(&cells, &known);
        let matrix = groups[0].matrix.as_ref().expect("a matrix");
        assert_eq!(matrix.rows, ["explicit", "none"]);
        assert_eq!(matrix.columns, ["replacement", "none"]);
        let pooled = matrix.cell("explicit", "replacement").expect("a cell");
        assert_eq!(pooled.pool.harmful, 21);
        assert_eq!(pooled.pool.completed, 25);
        assert_eq!(pooled.pool.errors, 2);
        assert_eq!(
            pooled.conditions,
            ["x-america_r", "x-global_r", "x-safety_r"]
        );
        assert_eq!(
            matrix.cell("none", "replacement").map(|c| c.pool.harmful),
            Some(1)
        );
        // No condition has goal type none and urgency none.
        assert!(matrix.cell("none", "none").is_none());
        assert!(matrix.outside.is_empty());
    }

    #[test]
    fn the_study_order_comes_first_and_unknown_values_are_kept() {
        let mut known = ConditionParams::new();
        condition(&mut known, "a", ("swap", "x"), "none");
        condition(&mut known, "b", ("explicit", "x"), "someday");
        condition(&mut known, "c", ("curious", "x"), "replacement");
        condition(&mut known, "d", ("latent", "x"), "restriction");
        known.insert("s", "e", params(&[("goal_type", "explicit")]));
        let cells: Vec<Cell> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|id| cell("m", "s", id, 1, 1, 0))
            .collect();
        let refs: Vec<&Cell> = cells.iter().collect();
        let matrix = Matrix::goal_type_by_urgency(&refs, &known).expect("a matrix");
        assert_eq!(matrix.rows, ["explicit", "latent", "swap", "curious"]);
        assert_eq!(
            matrix.columns,
            ["replacement", "restriction", "none", "someday"]
        );
        assert_eq!(matrix.outside, ["e"]);
    }
}
