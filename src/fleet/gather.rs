//! Questions of many tasks, sent as one statement. A worker's tasks ask
//! PostgreSQL the same kind of thing at about the same time (the state
//! of the sources of one claim, the results that one group commit let
//! go); one round trip each cost the server more than the rows did. A
//! `Gather` holds what is asked within a short window and sends it in one
//! call, handing each task its own answer.
//!
//! The first task to ask starts a sender (a task of its own, so that no
//! asker's end can strand the others): it waits the window, sends what
//! has gathered, and sends again at once while more came in meanwhile.
//! A failed call fails every question it carried, each with the same
//! error text; the askers retry as they would a call of their own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// The call that answers many questions at once: one answer per key, in
/// the keys' order.
pub type Call<K, V> =
    dyn Fn(Vec<K>) -> BoxFuture<'static, Result<Vec<V>>> + std::marker::Send + Sync;

/// Gathers questions of type `K` into calls of `send`.
pub struct Gather<K, V> {
    window: Duration,
    send: Arc<Call<K, V>>,
    pending: Mutex<Pending<K, V>>,
    /// Where errors say they come from (the queue, the store).
    name: std::path::PathBuf,
}

type Reply<V> = oneshot::Sender<std::result::Result<V, String>>;

struct Pending<K, V> {
    asked: Vec<(K, Reply<V>)>,
    /// A sender is at work: it will take what is asked now.
    sending: bool,
}

impl<K, V> Gather<K, V>
where
    K: std::marker::Send + 'static,
    V: std::marker::Send + 'static,
{
    /// `send` answers a call's questions, in their order.
    pub fn new<F, Fut>(
        name: impl Into<std::path::PathBuf>,
        window: Duration,
        send: F,
    ) -> Arc<Gather<K, V>>
    where
        F: Fn(Vec<K>) -> Fut + std::marker::Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Vec<V>>> + std::marker::Send + 'static,
    {
        let send: Arc<Call<K, V>> = Arc::new(move |keys| Box::pin(send(keys)));
        Arc::new(Gather {
            window,
            send,
            pending: Mutex::new(Pending {
                asked: Vec::new(),
                sending: false,
            }),
            name: name.into(),
        })
    }

    /// The answer to `key`, sent with the questions asked about the same
    /// time.
    pub async fn ask(self: &Arc<Self>, key: K) -> Result<V> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            p.asked.push((key, tx));
            !std::mem::replace(&mut p.sending, true)
        };
        if start {
            tokio::spawn(self.clone().send_all());
        }
        let failed = |cause: String| Error::Store {
            path: self.name.clone(),
            cause,
        };
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(cause)) => Err(failed(cause)),
            Err(_) => Err(failed("the gathered call ended without an answer".into())),
        }
    }

    /// Sends what is asked until nothing is left.
    async fn send_all(self: Arc<Self>) {
        tokio::time::sleep(self.window).await;
        loop {
            let asked = {
                let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                if p.asked.is_empty() {
                    p.sending = false;
                    return;
                }
                std::mem::take(&mut p.asked)
            };
            let (keys, replies): (Vec<K>, Vec<Reply<V>>) = asked.into_iter().unzip();
            let n = keys.len();
            match (self.send)(keys).await {
                Ok(answers) if answers.len() == n => {
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        let _ = reply.send(Ok(answer));
                    }
                }
                Ok(answers) => {
                    let cause = format!("{n} questions got {} answers", answers.len());
                    for reply in replies {
                        let _ = reply.send(Err(cause.clone()));
                    }
                }
                Err(e) => {
                    let cause = match &e {
                        Error::Store { cause, .. } => cause.clone(),
                        e => crate::error::chain_text(e),
                    };
                    for reply in replies {
                        let _ = reply.send(Err(cause.clone()));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn doubler(
        calls: Arc<AtomicUsize>,
    ) -> impl Fn(Vec<u32>) -> BoxFuture<'static, Result<Vec<u32>>> + Send + Sync + 'static {
        move |keys: Vec<u32>| {
            let calls = calls.clone();
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                if keys.contains(&13) {
                    return Err(Error::Store {
                        path: "q".into(),
                        cause: "thirteen refused".into(),
                    });
                }
                Ok(keys.iter().map(|k| k * 2).collect())
            })
        }
    }

    #[tokio::test]
    async fn questions_asked_together_go_in_one_call_and_each_gets_its_own_answer() {
        let calls = Arc::new(AtomicUsize::new(0));
        let gather = Gather::new("q", Duration::from_millis(20), doubler(calls.clone()));
        let asks: Vec<_> = (1..=10u32)
            .map(|k| {
                let g = gather.clone();
                tokio::spawn(async move { g.ask(k).await })
            })
            .collect();
        let mut answers = Vec::new();
        for a in asks {
            answers.push(a.await.unwrap().unwrap());
        }
        assert_eq!(answers, (1..=10u32).map(|k| k * 2).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Later questions start another call.
        assert_eq!(gather.ask(21).await.unwrap(), 42);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_call_fails_each_question_it_carried_with_its_cause() {
        let calls = Arc::new(AtomicUsize::new(0));
        let gather = Gather::new("q", Duration::from_millis(20), doubler(calls));
        let (a, b) = tokio::join!(gather.ask(13), gather.ask(4));
        for e in [a.unwrap_err(), b.unwrap_err()] {
            assert_eq!(
                e.to_string(),
                Error::Store {
                    path: "q".into(),
                    cause: "thirteen refused".into()
                }
                .to_string()
            );
        }
        // The gather still works after a failure.
        assert_eq!(gather.ask(5).await.unwrap(), 10);
    }
}
