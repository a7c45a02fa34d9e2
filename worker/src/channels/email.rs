//! Email through lettre: over SMTP when `SMTP_URL` is set, else as `.eml`
//! files in a folder, which is enough to read them on a laptop.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use service::notifications::deliveries::Claimed;

/// Sends email notifications.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    /// SMTP sessions sent over at once (`SMTP_CONNECTIONS`). lettre's pool
    /// keeps this many connections for reuse but would open more under
    /// load; the semaphore makes it the bound.
    sessions: Arc<Semaphore>,
    connections: usize,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

impl Mailer {
    pub fn new(
        smtp_url: Option<&str>,
        from: &str,
        outbox_dir: PathBuf,
        timeout: Duration,
        connections: usize,
    ) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM: '{from}' is not a mailbox: {e}"))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "SMTP_URL: {} is not usable: {e}",
                            service::config::redact(url)
                        )
                    })?
                    .timeout(Some(timeout))
                    // Reused connections: one SMTP session (and, with TLS,
                    // one handshake) serves many emails.
                    .pool_config(
                        PoolConfig::new()
                            .max_size(connections as u32)
                            .idle_timeout(Duration::from_secs(30)),
                    )
                    .build(),
            ),
            None => Transport::Files(AsyncFileTransport::new(&outbox_dir), outbox_dir),
        };
        Ok(Self {
            from,
            transport,
            sessions: Arc::new(Semaphore::new(connections)),
            connections,
        })
    }

    /// How many mails it sends at once.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// Waits for a free SMTP session. The caller checks that it may still
    /// send (its hold on the delivery may have run out while it waited)
    /// before it sends over the session.
    pub async fn reserve(&self) -> Result<MailSession<'_>, String> {
        let permit = self
            .sessions
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| "the mailer is shutting down".to_owned())?;
        Ok(MailSession {
            mailer: self,
            _permit: permit,
        })
    }

    fn compose(&self, claimed: &Claimed) -> Result<Message, String> {
        let to: Mailbox = format!("{} <{}>", claimed.user.display_name, claimed.user.email)
            .parse()
            .or_else(|_| claimed.user.email.parse())
            .map_err(|e| format!("the address {} is not usable: {e}", claimed.user.email))?;
        let notification = &claimed.notification;
        let text = format!(
            "{}\n\n{}\n\n--\nYou get this because of your InTheGame notification settings.\n",
            notification.title, notification.body
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&notification.title)
            .message_id(Some(format!(
                "<delivery-{}@inthegame>",
                claimed.delivery.id
            )))
            .multipart(MultiPart::alternative_plain_html(text, html(claimed)))
            .map_err(|e| format!("composing the email: {e}"))
    }
}

/// One of the mailer's sessions, held until the mail is handed over.
pub struct MailSession<'a> {
    mailer: &'a Mailer,
    _permit: OwnedSemaphorePermit,
}

impl MailSession<'_> {
    /// Sends one delivery. The Message-ID is the delivery's, so a mail
    /// client treats a resend after a crash as the same message.
    pub async fn send(self, claimed: &Claimed) -> Result<(), String> {
        let message = self.mailer.compose(claimed)?;
        match &self.mailer.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP: {e}")),
            Transport::Files(files, dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("creating {}: {e}", dir.display()))?;
                files
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("writing to {}: {e}", dir.display()))
            }
        }
    }
}

fn html(claimed: &Claimed) -> String {
    let notification = &claimed.notification;
    let lines: String = notification
        .body
        .lines()
        .map(|line| {
            let indented = line.starts_with("  ");
            let text = escape(line.trim());
            if indented {
                format!("<li>{text}</li>")
            } else {
                format!("<p><strong>{text}</strong></p>")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n<h1>{}</h1>\n{}\n\
         <p style=\"color: #666; font-size: small\">You get this because of your InTheGame notification settings.</p>\n\
         </body></html>\n",
        escape(&notification.title),
        lines
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
