//! A fake SMTP server: enough of RFC 5321 for a real client (EHLO, AUTH PLAIN, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT), with the replies a server gives when it refuses.

use std::{net::SocketAddr, sync::Arc};

use base64::Engine as _;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

use super::{Failure, HOLD, Server, Shared};

/// An e-mail the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope's sender.
    pub from: String,
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-unstuffed).
    pub data: String,
}

/// A fake SMTP server on a loopback port, without TLS (a client connects with
/// [`SmtpSecurity::Plain`](crate::SmtpSecurity::Plain)).
#[derive(Debug)]
pub struct FakeSmtp {
    addr: SocketAddr,
    shared: Arc<Shared<ReceivedMail>>,
    _server: Server,
}

#[derive(Clone)]
struct Login {
    user: String,
    password: String,
}

impl FakeSmtp {
    /// Starts a server that takes mail without a login.
    pub async fn start() -> std::io::Result<FakeSmtp> {
        FakeSmtp::launch(None).await
    }

    /// Starts a server that takes mail only after `AUTH PLAIN` with this user and password.
    pub async fn with_login(user: &str, password: &str) -> std::io::Result<FakeSmtp> {
        FakeSmtp::launch(Some(Login {
            user: user.to_owned(),
            password: password.to_owned(),
        }))
        .await
    }

    async fn launch(login: Option<Login>) -> std::io::Result<FakeSmtp> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared: Arc<Shared<ReceivedMail>> = Shared::new();
        let state = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, login) = (state.clone(), login.clone());
                tokio::spawn(async move {
                    let _ = session(stream, state, login).await;
                });
            }
        });
        Ok(FakeSmtp {
            addr,
            shared,
            _server: Server(task),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The mail it accepted, in order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared.received()
    }

    /// Refuses the next `count` messages with `failure` (`550` for an invalid recipient, `421`
    /// when rate limited, `451` for a server error, `452` for no room, `530` unauthorized, or
    /// no answer).
    pub fn fail_next(&self, count: usize, failure: Failure) {
        self.shared.fail_next(count, failure);
    }
}

/// One client's conversation.
async fn session(
    stream: TcpStream,
    shared: Arc<Shared<ReceivedMail>>,
    login: Option<Login>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 fake.pochi.invalid ESMTP\r\n").await?;
    let mut authenticated = login.is_none();
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut failure: Option<Failure> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-fake.pochi.invalid\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n"
        } else if upper.starts_with("HELO") {
            b"250 fake.pochi.invalid\r\n"
        } else if let Some(encoded) = upper.strip_prefix("AUTH PLAIN ") {
            // The original case of the base64 text matters.
            let encoded = &command[command.len() - encoded.len()..];
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .unwrap_or_default();
            let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
            let good = login.as_ref().is_some_and(|l| {
                parts.len() == 3
                    && parts[1] == l.user.as_bytes()
                    && parts[2] == l.password.as_bytes()
            });
            if good {
                authenticated = true;
                b"235 2.7.0 Authentication successful\r\n"
            } else {
                b"535 5.7.8 Authentication credentials invalid\r\n"
            }
        } else if upper.starts_with("MAIL FROM:") {
            failure = shared.next_failure();
            match failure {
                _ if !authenticated => b"530 5.7.0 Authentication required\r\n",
                Some(Failure::Unauthorized) => b"530 5.7.0 Authentication required\r\n",
                Some(Failure::RateLimited) => {
                    write
                        .write_all(b"421 4.7.0 Too many messages, try again later\r\n")
                        .await?;
                    return Ok(());
                }
                Some(Failure::Timeout) => {
                    tokio::time::sleep(HOLD).await;
                    return Ok(());
                }
                _ => {
                    from = Some(address(&command["MAIL FROM:".len()..]));
                    to.clear();
                    b"250 2.1.0 OK\r\n"
                }
            }
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                b"503 5.5.1 MAIL first\r\n"
            } else if matches!(failure, Some(Failure::InvalidNumber | Failure::Blacklisted)) {
                b"550 5.1.1 No such user here\r\n"
            } else {
                to.push(address(&command["RCPT TO:".len()..]));
                b"250 2.1.5 OK\r\n"
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                b"554 5.5.1 No valid recipients\r\n"
            } else {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                match failure.take() {
                    Some(Failure::ServerError) => b"451 4.3.0 Local error in processing\r\n",
                    Some(Failure::InsufficientBalance) => {
                        b"452 4.3.1 Insufficient system storage\r\n"
                    }
                    _ => {
                        let (mail_from, mail_to) = (from.take().unwrap_or_default(), to.clone());
                        shared.record(|_| ReceivedMail {
                            from: mail_from,
                            to: mail_to,
                            data,
                        });
                        b"250 2.0.0 OK queued\r\n"
                    }
                }
            }
        } else if upper == "RSET" {
            from = None;
            to.clear();
            b"250 2.0.0 OK\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 Command not recognised\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// The address in `<…>` (parameters after it dropped).
fn address(text: &str) -> String {
    let text = text.trim();
    match (text.find('<'), text.find('>')) {
        (Some(open), Some(close)) if open < close => text[open + 1..close].to_owned(),
        _ => text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}
