//! SMTP stand-in: enough of RFC 5321 for lettre (EHLO/HELO, AUTH PLAIN/LOGIN accepted, MAIL, RCPT,
//! DATA with dot-unstuffing, RSET, NOOP, QUIT). No STARTTLS: it is local only.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::faults::{FaultMode, Service};
use crate::state::{Email, SandboxState};

pub(crate) async fn serve(listener: TcpListener, state: Arc<SandboxState>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let state = state.clone();
                tokio::spawn(async move {
                    if let Err(e) = session(stream, state).await {
                        tracing::debug!(error = %e, "smtp session ended");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "smtp accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn session(stream: TcpStream, state: Arc<SandboxState>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let fault = state.take_fault(Service::Smtp);
    match fault.as_ref().map(|f| f.mode) {
        Some(mode @ (FaultMode::Down | FaultMode::RateLimit)) => {
            // the connection is refused with a 421 greeting, recorded
            state.record(
                Service::Smtp,
                "CONNECT",
                "",
                421,
                fault.as_ref(),
                json!(null),
            );
            let greeting: &[u8] = if mode == FaultMode::Down {
                b"421 4.3.2 Service not available (sandbox fault)\r\n"
            } else {
                b"421 4.7.0 Too many connections, try again later\r\n"
            };
            write.write_all(greeting).await?;
            return Ok(());
        }
        Some(FaultMode::Slow) => {
            if let Some(f) = &fault {
                tokio::time::sleep(f.slow_wait()).await;
            }
        }
        _ => {}
    }
    let fail_mail = matches!(fault.as_ref().map(|f| f.mode), Some(FaultMode::Error));
    write
        .write_all(b"220 sandbox.leadflow.local ESMTP leadflow-sandbox\r\n")
        .await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-sandbox.leadflow.local\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 sandbox.leadflow.local\r\n").await?;
        } else if upper.starts_with("AUTH PLAIN") {
            if upper.trim() == "AUTH PLAIN" {
                write.write_all(b"334 \r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
            }
            write
                .write_all(b"235 2.7.0 Authentication successful\r\n")
                .await?;
        } else if upper.starts_with("AUTH LOGIN") {
            for prompt in [&b"334 VXNlcm5hbWU6\r\n"[..], &b"334 UGFzc3dvcmQ6\r\n"[..]] {
                write.write_all(prompt).await?;
                line.clear();
                lines.read_line(&mut line).await?;
            }
            write
                .write_all(b"235 2.7.0 Authentication successful\r\n")
                .await?;
        } else if upper.starts_with("MAIL FROM:") {
            if fail_mail {
                state.record(Service::Smtp, "MAIL", "", 451, fault.as_ref(), json!(cmd));
                write
                    .write_all(b"451 4.3.0 Temporary local problem (sandbox fault)\r\n")
                    .await?;
                continue;
            }
            from = address(&cmd[10..]);
            to.clear();
            write.write_all(b"250 2.1.0 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&cmd[8..]));
            write.write_all(b"250 2.1.5 OK\r\n").await?;
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(l));
                data.push('\n');
            }
            let email = state.push_email(Email {
                id: String::new(),
                from: from.clone(),
                to: to.clone(),
                subject: header(&data, "Subject").unwrap_or_default(),
                message_id: header(&data, "Message-ID"),
                data,
            });
            state.record(
                Service::Smtp,
                "DATA",
                "",
                250,
                None,
                json!({"from": email.from, "to": email.to, "subject": email.subject, "message_id": email.message_id}),
            );
            write
                .write_all(format!("250 2.0.0 OK queued as {}\r\n", email.id).as_bytes())
                .await?;
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            write.write_all(b"250 2.0.0 OK\r\n").await?;
        } else if upper == "NOOP" {
            write.write_all(b"250 2.0.0 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            write
                .write_all(b"502 5.5.2 Command not recognized\r\n")
                .await?;
        }
    }
}

fn address(arg: &str) -> String {
    let arg = arg.trim();
    let end = arg.find('>').map_or(arg.len(), |i| i + 1);
    arg[..end]
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// A header's value (unfolded, not decoded) from the message text.
fn header(data: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in data.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_owned());
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_headers() {
        assert_eq!(address("<a@b.c> SIZE=10"), "a@b.c");
        let data = "Subject: hello\n world\nMessage-ID: <x@y>\n\nbody\nSubject: no\n";
        assert_eq!(header(data, "subject").as_deref(), Some("hello world"));
        assert_eq!(header(data, "Message-ID").as_deref(), Some("<x@y>"));
        assert_eq!(header(data, "To"), None);
    }
}
