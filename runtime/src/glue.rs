//! What every contract version's module shares: the host side of the
//! `host` interface and the conversions between a version's types and the
//! host's. The types of each version are distinct Rust types (each version
//! has its own `bindgen!`), but where a version did not change a type its
//! conversion reads the same, so it is written once here and expanded in
//! each module, where `wit` and `wit_host` name that version's bindings,
//! `t` the host's transcript types and `judge` the host's judge types.

/// `wit::Host` and `wit_host::Host` for the sandbox: logging, and the judge
/// call with the host's judge errors told in the contract's three cases.
macro_rules! host_imports {
    () => {
        impl wit::Host for SandboxState {}

        impl wit_host::Host for SandboxState {
            fn log(&mut self, level: wit::LogLevel, message: String, fields: Vec<wit::Param>) {
                let level = match level {
                    wit::LogLevel::Trace => "trace",
                    wit::LogLevel::Debug => "debug",
                    wit::LogLevel::Info => "info",
                    wit::LogLevel::Warn => "warn",
                    wit::LogLevel::Error => "error",
                };
                self.push_log(LogRecord {
                    level: level.to_owned(),
                    message,
                    fields: fields.into_iter().map(Into::into).collect(),
                });
            }

            async fn judge(
                &mut self,
                request: wit::JudgeRequest,
            ) -> Result<wit::JudgeResponse, wit::JudgeError> {
                let request = judge::JudgeRequest::new(
                    request.system_prompt,
                    request.messages.into_iter().map(Into::into),
                    request.prompt_version,
                    request.max_tokens,
                );
                match self.call_judge(request).await {
                    Ok(response) => Ok(wit::JudgeResponse {
                        text: response.text,
                        model: response.model,
                    }),
                    Err(judge::JudgeError::NotConfigured) => Err(wit::JudgeError::NotConfigured),
                    Err(judge::JudgeError::BudgetExhausted) => {
                        Err(wit::JudgeError::BudgetExhausted)
                    }
                    Err(judge::JudgeError::Failed(message)) => {
                        Err(wit::JudgeError::Failed(message))
                    }
                    Err(
                        e @ (judge::JudgeError::SampleCallsCapped { .. }
                        | judge::JudgeError::RequestTooLarge { .. }),
                    ) => Err(wit::JudgeError::Failed(e.to_string())),
                    Err(judge::JudgeError::Unanswered { reason, .. }) => {
                        Err(wit::JudgeError::Failed(reason))
                    }
                }
            }
        }
    };
}

/// The conversions of the types every version so far shares, both ways.
macro_rules! shared_conversions {
    () => {
        // Conversions, guest to host.

        impl From<wit::Param> for t::Param {
            fn from(p: wit::Param) -> Self {
                Self {
                    name: p.name,
                    value: p.value,
                }
            }
        }

        impl From<wit::Role> for t::Role {
            fn from(role: wit::Role) -> Self {
                match role {
                    wit::Role::System => Self::System,
                    wit::Role::User => Self::User,
                    wit::Role::Assistant => Self::Assistant,
                    wit::Role::Tool => Self::Tool,
                }
            }
        }

        impl From<wit::ToolCall> for t::ToolCall {
            fn from(c: wit::ToolCall) -> Self {
                Self {
                    id: c.id,
                    name: c.name,
                    arguments: c.arguments,
                }
            }
        }

        impl From<wit::ToolDefinition> for t::ToolDefinition {
            fn from(d: wit::ToolDefinition) -> Self {
                Self {
                    name: d.name,
                    description: d.description,
                    parameters: d.parameters,
                }
            }
        }

        impl From<wit::Message> for t::Message {
            fn from(m: wit::Message) -> Self {
                Self {
                    role: m.role.into(),
                    content: m.content,
                    reasoning: m.reasoning,
                    tool_calls: m.tool_calls.into_iter().map(Into::into).collect(),
                    tool_call_id: m.tool_call_id,
                    // The contract has no place for it: plugins never see or set it.
                    native: None,
                    cached: false,
                    call: None,
                }
            }
        }

        impl From<wit::Reply> for t::Reply {
            fn from(r: wit::Reply) -> Self {
                Self {
                    text: r.text,
                    reasoning: r.reasoning,
                    tool_calls: r.tool_calls.into_iter().map(Into::into).collect(),
                    native: None,
                    cached: false,
                    call: None,
                }
            }
        }

        impl From<wit::Opening> for t::Opening {
            fn from(o: wit::Opening) -> Self {
                Self {
                    system_prompt: o.system_prompt,
                    messages: o.messages.into_iter().map(Into::into).collect(),
                    tools: o.tools.into_iter().map(Into::into).collect(),
                }
            }
        }

        impl From<wit::Step> for t::Step {
            fn from(s: wit::Step) -> Self {
                match s {
                    wit::Step::Continue(messages) => {
                        Self::Continue(messages.into_iter().map(Into::into).collect())
                    }
                    wit::Step::End(reason) => Self::End(reason),
                }
            }
        }

        impl From<wit::Reference> for t::Reference {
            fn from(r: wit::Reference) -> Self {
                Self {
                    label: match r.label {
                        wit::Label::Harmful => t::Label::Harmful,
                        wit::Label::Benign => t::Label::Benign,
                    },
                    description: r.description,
                    replies: r.replies.into_iter().map(Into::into).collect(),
                }
            }
        }

        impl From<wit::Condition> for t::Condition {
            fn from(c: wit::Condition) -> Self {
                Self {
                    id: c.id,
                    params: c.params.into_iter().map(Into::into).collect(),
                }
            }
        }

        impl From<wit::ParameterSpec> for t::ParameterSpec {
            fn from(p: wit::ParameterSpec) -> Self {
                Self {
                    name: p.name,
                    description: p.description,
                    values: p.values,
                }
            }
        }

        impl From<wit::Metadata> for t::Metadata {
            fn from(m: wit::Metadata) -> Self {
                Self {
                    name: m.name,
                    version: m.version,
                    description: m.description,
                }
            }
        }

        impl From<wit::Verdict> for t::Verdict {
            fn from(v: wit::Verdict) -> Self {
                Self {
                    harmful: v.harmful,
                    label: v.label,
                    score: v.score,
                    explanation: v.explanation,
                    evidence: v.evidence,
                    judged: v.judged,
                }
            }
        }

        // Conversions, host to guest.

        impl From<&t::Param> for wit::Param {
            fn from(p: &t::Param) -> Self {
                Self {
                    name: p.name.clone(),
                    value: p.value.clone(),
                }
            }
        }

        impl From<&t::Condition> for wit::Condition {
            fn from(c: &t::Condition) -> Self {
                Self {
                    id: c.id.clone(),
                    params: c.params.iter().map(Into::into).collect(),
                }
            }
        }

        impl From<&t::ToolCall> for wit::ToolCall {
            fn from(c: &t::ToolCall) -> Self {
                Self {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    arguments: c.arguments.clone(),
                }
            }
        }

        impl From<&t::Reply> for wit::Reply {
            fn from(r: &t::Reply) -> Self {
                Self {
                    text: r.text.clone(),
                    reasoning: r.reasoning.clone(),
                    tool_calls: r.tool_calls.iter().map(Into::into).collect(),
                }
            }
        }

        impl From<t::Role> for wit::Role {
            fn from(role: t::Role) -> Self {
                match role {
                    t::Role::System => Self::System,
                    t::Role::User => Self::User,
                    t::Role::Assistant => Self::Assistant,
                    t::Role::Tool => Self::Tool,
                }
            }
        }

        impl From<&t::Message> for wit::Message {
            fn from(m: &t::Message) -> Self {
                Self {
                    role: m.role.into(),
                    content: m.content.clone(),
                    reasoning: m.reasoning.clone(),
                    tool_calls: m.tool_calls.iter().map(Into::into).collect(),
                    tool_call_id: m.tool_call_id.clone(),
                }
            }
        }
    };
}

pub(crate) use host_imports;
pub(crate) use shared_conversions;
