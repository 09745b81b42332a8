//! What a model family accepts in the way of sampling, by its name: which
//! models reason before they answer, and which take no temperature but
//! their default. The rules follow each provider's published model notes;
//! a model the rules do not know is treated as an ordinary chat model, and
//! anything its API refuses comes back as the API's own error.
//!
//! Routers and compatible servers (`openrouter/openai/o3`) are matched on
//! the name after the last `/`, so a family's rules follow it wherever it
//! is served.

/// What the rules say about one configured model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Family {
    /// It reasons before it answers: its reasoning counts against the
    /// output limit, and greedy sampling is refused or degrades it.
    pub reasoning: bool,
    /// Why no temperature can be chosen for it, if none can: only its
    /// default is accepted, and none is sent.
    pub fixed_temperature: Option<String>,
    /// Any explicit sampling setting (even the default) is refused, not
    /// only a changed one.
    pub sampling_removed: bool,
    /// It takes `temperature` or `top_p`, never both.
    pub exclusive_top_p: bool,
}

impl Family {
    /// Refuses, before anything is sent, a model spec whose sampling
    /// settings the model's API would refuse: a temperature out of the
    /// API's range (`max_temperature`), or one the family takes no choice
    /// of, or both `temperature` and `top_p` where it takes one.
    pub(super) fn check(
        &self,
        spec: &super::ModelSpec,
        max_temperature: f32,
    ) -> Result<(), super::SpecError> {
        let model = spec.model();
        if let Some(t) = spec.temperature
            && t > max_temperature
        {
            return Err(spec.setting_error(
                "temperature",
                format!(
                    "must be between 0 and {max_temperature:?} for {}, not {t}",
                    spec.provider()
                ),
            ));
        }
        if let Some(why) = &self.fixed_temperature {
            let explicit = if self.sampling_removed {
                spec.temperature
                    .map(|t| ("temperature", t))
                    .or(spec.top_p.map(|p| ("top_p", p)))
            } else {
                spec.temperature
                    .filter(|t| *t != 1.0)
                    .map(|t| ("temperature", t))
            };
            if let Some((setting, value)) = explicit {
                return Err(spec.setting_error(
                    setting,
                    format!("cannot be set for {model} ({why}); leave it unset, not {value}"),
                ));
            }
        }
        if self.exclusive_top_p && spec.temperature.is_some() && spec.top_p.is_some() {
            return Err(spec.setting_error(
                "top_p",
                format!("cannot be set with temperature for {model}: it takes one or the other"),
            ));
        }
        Ok(())
    }
}

/// The model's own name: what follows a router's vendor prefix.
fn base_name(model: &str) -> String {
    model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase()
}

/// OpenAI's reasoning models: the o-series (o1, o3, o4-mini, ...) and
/// GPT-5. The o-series and GPT-5 itself take only their default
/// temperature; GPT-5.1 and later take one only with `reasoning_effort`
/// `none`, when they do not reason. `gpt-5-chat` is a chat model.
pub(super) fn openai(model: &str, reasoning_effort: Option<&str>) -> Family {
    let name = base_name(model);
    let o_series = name
        .strip_prefix('o')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    let gpt5 = name.strip_prefix("gpt-5");
    let reasoning = match gpt5 {
        _ if o_series => true,
        None => false,
        Some(rest) if rest.starts_with("-chat") => false,
        // GPT-5.1 and later: no reasoning at effort `none`.
        Some(rest) if rest.starts_with('.') => reasoning_effort != Some("none"),
        Some(_) => true,
    };
    Family {
        reasoning,
        fixed_temperature: reasoning.then(|| {
            format!("{name} is a reasoning model and takes only its default temperature (1)")
        }),
        ..Family::default()
    }
}

/// Claude: Opus 4.7 and later and the Claude 5 generation refuse every
/// sampling setting (they think adaptively); Opus 4.1 and the 4.5 and 4.6
/// models take `temperature` or `top_p`, not both; extended thinking takes
/// temperature 1 only.
pub(super) fn anthropic(model: &str, thinking: bool) -> Family {
    let name = base_name(model);
    let generation = claude_generation(&name);
    let sampling_removed = matches!(generation, Some((major, _)) if major >= 5)
        || matches!(generation, Some((4, minor)) if minor >= 7)
        || name.starts_with("claude-mythos");
    let exclusive_top_p = !sampling_removed && matches!(generation, Some((4, minor)) if minor >= 1);
    let reasoning = sampling_removed || thinking;
    let fixed_temperature = if sampling_removed {
        Some(format!(
            "{name} accepts no sampling settings (temperature, top_p): it thinks adaptively"
        ))
    } else if thinking {
        Some("with thinking on, anthropic takes only temperature 1".to_owned())
    } else {
        None
    };
    Family {
        reasoning,
        fixed_temperature,
        sampling_removed,
        exclusive_top_p,
    }
}

/// What a Claude model takes in the way of thinking, as Anthropic's model
/// notes list it ("Adaptive thinking", "Effort", "Extended thinking").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClaudeThinking {
    /// `thinking: {"type": "adaptive"}`: Opus 4.6 and Sonnet 4.6 on.
    pub adaptive: bool,
    /// `thinking: {"type": "enabled", "budget_tokens"}`: refused (400)
    /// from Opus 4.7 and Mythos Preview on, which think adaptively only.
    pub budget: bool,
    /// The `output_config.effort` levels it takes; none before Opus 4.5.
    pub efforts: &'static [&'static str],
}

const EFFORTS_4_5: &[&str] = &["low", "medium", "high"];
const EFFORTS_4_6: &[&str] = &["low", "medium", "high", "max"];
const EFFORTS_ALL: &[&str] = &["low", "medium", "high", "xhigh", "max"];

/// The thinking rules of a Claude model the notes name; `None` for a name
/// they do not (a new model, a fine-tune, a local stand-in), whose API is
/// left to say what it refuses. Effort came with Opus 4.5 (`low` to
/// `high`), `max` with Opus 4.6 and Sonnet 4.6, `xhigh` with Opus 4.7;
/// Claude 5 models take every level, as far as the notes go.
pub(super) fn claude_thinking(model: &str) -> Option<ClaudeThinking> {
    let name = base_name(model);
    if name.starts_with("claude-mythos-preview") {
        return Some(ClaudeThinking {
            adaptive: true,
            budget: false,
            efforts: EFFORTS_4_6,
        });
    }
    let generation = claude_generation(&name)?;
    Some(match generation {
        (major, _) if major >= 5 => ClaudeThinking {
            adaptive: true,
            budget: false,
            efforts: EFFORTS_ALL,
        },
        (4, minor) if minor >= 7 => ClaudeThinking {
            adaptive: true,
            budget: false,
            efforts: EFFORTS_ALL,
        },
        (4, 6) => ClaudeThinking {
            adaptive: true,
            budget: true,
            efforts: EFFORTS_4_6,
        },
        (4, 5) if name.starts_with("claude-opus") => ClaudeThinking {
            adaptive: false,
            budget: true,
            efforts: EFFORTS_4_5,
        },
        _ => ClaudeThinking {
            adaptive: false,
            budget: true,
            efforts: &[],
        },
    })
}

/// `(major, minor)` of a Claude model's name: `claude-opus-4-5` is
/// (4, 5), `claude-sonnet-4-20250514` (4, 0), `claude-sonnet-5` (5, 0);
/// the older `claude-3-7-sonnet` naming is (3, 7).
fn claude_generation(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("claude-")?;
    let parts: Vec<&str> = rest.split('-').collect();
    let first_number = parts.iter().position(|p| p.parse::<u32>().is_ok())?;
    let major: u32 = parts[first_number].parse().ok()?;
    // A dated snapshot's suffix is no minor version.
    let minor = parts
        .get(first_number + 1)
        .filter(|p| p.len() <= 2)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    Some((major, minor))
}

/// Gemini: 3 and 2.5 Pro always think; 2.5 Flash thinks unless its budget
/// is 0, and 2.5 Flash-Lite only when given a budget. Each still takes a
/// temperature, so none is fixed; a judge simply pins none on them.
pub(super) fn gemini(model: &str, thinking_budget: Option<u32>) -> Family {
    let name = base_name(model);
    let name = name.strip_prefix("models/").unwrap_or(&name);
    let reasoning = if name.starts_with("gemini-3") || name.starts_with("gemini-2.5-pro") {
        true
    } else if name.starts_with("gemini-2.5-flash-lite") {
        thinking_budget.is_some_and(|b| b > 0)
    } else if name.starts_with("gemini-2.5-flash") {
        thinking_budget != Some(0)
    } else {
        thinking_budget.is_some_and(|b| b > 0)
    };
    Family {
        reasoning,
        ..Family::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_reasoning_models_take_only_their_default_temperature() {
        for name in [
            "o1",
            "o3",
            "o3-mini",
            "o4-mini-2025-04-16",
            "gpt-5",
            "gpt-5-mini",
            "gpt-5-nano",
        ] {
            let family = openai(name, None);
            assert!(
                family.reasoning && family.fixed_temperature.is_some(),
                "{name}"
            );
        }
        for name in [
            "gpt-4.1",
            "gpt-4o-mini",
            "gpt-5-chat-latest",
            "gpt-oss-120b",
            "omni-x",
        ] {
            let family = openai(name, None);
            assert!(
                !family.reasoning && family.fixed_temperature.is_none(),
                "{name}"
            );
        }
        assert!(openai("gpt-5.2", Some("high")).reasoning);
        assert!(openai("gpt-5.1", None).reasoning);
        assert!(!openai("gpt-5.1", Some("none")).reasoning);
        // Routed, the family's rules follow the model.
        assert!(openai("openai/o3", None).reasoning);
    }

    #[test]
    fn claude_generations_have_their_own_sampling_rules() {
        assert_eq!(claude_generation("claude-opus-4-5-20251101"), Some((4, 5)));
        assert_eq!(claude_generation("claude-sonnet-4-20250514"), Some((4, 0)));
        assert_eq!(
            claude_generation("claude-3-7-sonnet-20250219"),
            Some((3, 7))
        );
        assert_eq!(claude_generation("claude-sonnet-5"), Some((5, 0)));
        for name in [
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-sonnet-5",
            "claude-opus-5",
        ] {
            let family = anthropic(name, false);
            assert!(family.sampling_removed && family.reasoning, "{name}");
        }
        for name in [
            "claude-opus-4-1",
            "claude-sonnet-4-5",
            "claude-haiku-4-5",
            "claude-opus-4-6",
        ] {
            let family = anthropic(name, false);
            assert!(family.exclusive_top_p && !family.reasoning, "{name}");
        }
        let plain = anthropic("claude-sonnet-4-20250514", false);
        assert_eq!(plain, Family::default());
        let thinking = anthropic("claude-sonnet-4", true);
        assert!(thinking.reasoning && thinking.fixed_temperature.is_some());
    }

    #[test]
    fn each_claude_takes_the_thinking_and_effort_its_notes_list() {
        let of = |name: &str| claude_thinking(name).expect("a Claude the notes name");
        for name in [
            "claude-sonnet-4-5-20250929",
            "claude-haiku-4-5",
            "claude-opus-4-1",
        ] {
            assert_eq!(
                of(name),
                ClaudeThinking {
                    adaptive: false,
                    budget: true,
                    efforts: &[],
                },
                "{name}"
            );
        }
        assert_eq!(of("claude-opus-4-5").efforts, EFFORTS_4_5);
        assert!(!of("claude-opus-4-5").adaptive);
        for name in ["claude-opus-4-6", "claude-sonnet-4-6"] {
            let thinking = of(name);
            assert!(thinking.adaptive && thinking.budget, "{name}");
            assert_eq!(thinking.efforts, EFFORTS_4_6, "{name}");
        }
        for name in [
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-sonnet-5",
            "claude-fable-5",
        ] {
            let thinking = of(name);
            assert!(thinking.adaptive && !thinking.budget, "{name}");
            assert_eq!(thinking.efforts, EFFORTS_ALL, "{name}");
        }
        assert_eq!(of("claude-mythos-preview").efforts, EFFORTS_4_6);
        assert!(!of("claude-mythos-preview").budget);
        // Routed, the rules follow the model; a name they do not know has
        // none.
        assert!(of("anthropic/claude-opus-4-7").adaptive);
        assert_eq!(claude_thinking("fake-model"), None);
    }

    #[test]
    fn gemini_thinks_by_model_and_budget() {
        assert!(gemini("gemini-3-pro-preview", None).reasoning);
        assert!(gemini("gemini-2.5-pro", Some(0)).reasoning);
        assert!(gemini("gemini-2.5-flash", None).reasoning);
        assert!(!gemini("gemini-2.5-flash", Some(0)).reasoning);
        assert!(!gemini("gemini-2.5-flash-lite", None).reasoning);
        assert!(gemini("gemini-2.5-flash-lite", Some(512)).reasoning);
        assert!(!gemini("gemini-2.0-flash", None).reasoning);
        assert!(
            gemini("gemini-3-flash-preview", None)
                .fixed_temperature
                .is_none()
        );
    }
}
