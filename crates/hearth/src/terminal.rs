//! The terminal conversation (`hearth chat`) and streamed output of one turn.

use std::io::Write;

use futures::StreamExt;
use hearth_coach::{Coach, TurnEvent, TurnOutcome, TurnRequest};
use hearth_core::LOCAL_USER;
use hearth_safety::Level;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Streams one turn to stdout and returns its outcome.
pub async fn stream_turn(coach: &Coach, request: TurnRequest) -> anyhow::Result<TurnOutcome> {
    let mut stream = coach.turn(request).await?;
    let mut out = std::io::stdout();
    let mut shown = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(TurnEvent::Started { safety, .. }) => {
                if safety.level == Level::Urgent {
                    writeln!(out, "\n*** Your safety comes first ***\n")?;
                }
            }
            Ok(TurnEvent::Text(text)) => {
                write!(out, "{text}")?;
                out.flush()?;
                shown = true;
            }
            Ok(TurnEvent::Replace(text)) => {
                if shown {
                    writeln!(out, "\n\n(Let me put that differently.)\n")?;
                }
                write!(out, "{text}")?;
            }
            Ok(TurnEvent::Done(outcome)) => {
                writeln!(out)?;
                if !outcome.citations.is_empty() {
                    let sources: Vec<String> = outcome
                        .citations
                        .iter()
                        .map(|c| format!("{} ({})", c.title, c.source))
                        .collect();
                    writeln!(out, "\nSources: {}", sources.join("; "))?;
                }
                if let Some(exercise) = &outcome.suggested_exercise {
                    writeln!(out, "Try: {} [{}]", exercise.title, exercise.id)?;
                }
                return Ok(*outcome);
            }
            Err(err) => {
                writeln!(out)?;
                return Err(err.into());
            }
        }
    }
    anyhow::bail!("the reply ended unexpectedly; your message was saved")
}

const HELP: &str =
    "Commands: /new starts a new conversation, /quit leaves (Ctrl-D too), /help shows this.";

/// A conversation in the terminal. History is kept in the store, so `--conversation ID` resumes.
pub async fn chat(coach: &Coach, mut conversation: Option<String>) -> anyhow::Result<()> {
    if let Some(id) = &conversation {
        let earlier = coach.store().messages(LOCAL_USER, id).await?;
        for message in earlier.iter().rev().take(4).rev() {
            println!("{}: {}\n", message.role.as_str(), message.content);
        }
    }
    println!("Hearth ({}) is listening. {HELP}", coach.model_name());
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        print!("\nyou> ");
        std::io::stdout().flush()?;
        let Some(line) = lines.next_line().await? else { break };
        let text = line.trim();
        match text {
            "" => continue,
            "/quit" | "/exit" => break,
            "/help" => {
                println!("{HELP}");
                continue;
            }
            "/new" => {
                conversation = None;
                println!("Started a new conversation.");
                continue;
            }
            _ if text.starts_with('/') => {
                println!("Unknown command. {HELP}");
                continue;
            }
            _ => {}
        }
        print!("\nhearth> ");
        let request = TurnRequest {
            owner: LOCAL_USER.into(),
            conversation_id: conversation.clone(),
            text: text.to_string(),
        };
        match stream_turn(coach, request).await {
            Ok(outcome) => conversation = Some(outcome.conversation_id),
            // A failed turn keeps the conversation open; the message itself was stored.
            Err(err) => eprintln!("hearth: {err:#}"),
        }
    }
    Ok(())
}
