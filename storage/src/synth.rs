//! Synthetic events shaped like Bluesky Jetstream messages (the JSONBench data set), for
//! benchmarks and tests: nested `commit.record`, `langs` arrays, a `commit.record.subject`
//! that is an object (likes, reposts) in some documents and a string (follows) in others,
//! identity events without `commit`, and a skewed distribution of users.
//! Deterministic for a given seed; needs no external data.

/// A small deterministic PRNG (SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator with the given seed.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const WORDS: &[&str] = &[
    "the", "a", "bluesky", "post", "today", "coffee", "rust", "database", "music", "art", "cat", "dog", "sunset", "weekend",
    "news", "thread", "photo", "love", "hello", "world", "new", "great", "time", "people", "just", "really", "think", "good",
    "work", "day", "morning", "night", "friends", "game", "book", "movie", "politics", "science",
];
const LANGS: &[&str] = &["en", "ja", "pt", "de", "es", "fr", "ko"];
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Generates Jetstream-like events.
#[derive(Debug, Clone)]
pub struct EventGen {
    rng: SplitMix,
    users: u64,
    time_us: i64,
    seq: u64,
}

impl EventGen {
    /// A generator over `users` distinct accounts.
    pub fn new(seed: u64, users: u64) -> EventGen {
        EventGen { rng: SplitMix::new(seed), users: users.max(1), time_us: 1_732_206_349_000_000, seq: 0 }
    }

    fn token(&mut self, len: usize) -> String {
        (0..len).map(|_| ALPHABET[self.rng.below(32) as usize] as char).collect()
    }

    /// The DID of account `n`.
    pub fn did(n: u64) -> String {
        let mut x = SplitMix::new(n.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let s: String = (0..24).map(|_| ALPHABET[x.below(32) as usize] as char).collect();
        format!("did:plc:{s}")
    }

    /// A skewed pick of an account: a few accounts are very active.
    fn user(&mut self) -> u64 {
        let u = self.rng.below(self.users);
        let v = self.rng.below(self.users);
        let w = self.rng.below(self.users);
        u.min(v).min(w)
    }

    fn created_at(&self) -> String {
        crate::value::format_timestamp(self.time_us - 1_500_000).replace('Z', "").chars().take(23).collect::<String>() + "Z"
    }

    fn text(&mut self) -> String {
        let n = 3 + self.rng.below(25) as usize;
        let words: Vec<&str> = (0..n).map(|_| WORDS[self.rng.below(WORDS.len() as u64) as usize]).collect();
        words.join(" ")
    }

    fn at_uri(&mut self, kind: &str) -> (String, String) {
        let did = EventGen::did(self.user());
        let uri = format!("at://{did}/{kind}/{}", self.token(13));
        let cid = format!("bafyrei{}", self.token(52));
        (uri, cid)
    }

    /// The next event as one line of JSON.
    pub fn next_json(&mut self) -> String {
        self.seq += 1;
        self.time_us += 1 + self.rng.below(200) as i64;
        let did = EventGen::did(self.user());
        let roll = self.rng.below(100);
        if roll < 3 {
            let handle = format!("{}.bsky.social", self.token(8));
            return format!(
                r#"{{"did":"{did}","time_us":{},"kind":"identity","identity":{{"did":"{did}","handle":"{handle}","seq":{},"time":"{}"}}}}"#,
                self.time_us,
                self.seq,
                self.created_at()
            );
        }
        let (collection, record) = match roll {
            3..=52 | 73..=84 => {
                // Likes and reposts: `subject` is an object.
                let kind = if roll <= 52 { "like" } else { "repost" };
                let (uri, cid) = self.at_uri("app.bsky.feed.post");
                (
                    format!("app.bsky.feed.{kind}"),
                    format!(
                        r#"{{"$type":"app.bsky.feed.{kind}","createdAt":"{}","subject":{{"cid":"{cid}","uri":"{uri}"}}}}"#,
                        self.created_at()
                    ),
                )
            }
            53..=72 => {
                // Follows: `subject` is a string.
                let subject = EventGen::did(self.user());
                (
                    "app.bsky.graph.follow".to_owned(),
                    format!(r#"{{"$type":"app.bsky.graph.follow","createdAt":"{}","subject":"{subject}"}}"#, self.created_at()),
                )
            }
            _ => {
                let langs: Vec<String> = (0..1 + self.rng.below(2))
                    .map(|_| format!("\"{}\"", LANGS[self.rng.below(LANGS.len() as u64) as usize]))
                    .collect();
                let reply = if self.rng.below(3) == 0 {
                    let (puri, pcid) = self.at_uri("app.bsky.feed.post");
                    format!(r#","reply":{{"parent":{{"cid":"{pcid}","uri":"{puri}"}},"root":{{"cid":"{pcid}","uri":"{puri}"}}}}"#)
                } else {
                    String::new()
                };
                let text = self.text();
                (
                    "app.bsky.feed.post".to_owned(),
                    format!(
                        r#"{{"$type":"app.bsky.feed.post","createdAt":"{}","langs":[{}],"text":"{text}"{reply}}}"#,
                        self.created_at(),
                        langs.join(",")
                    ),
                )
            }
        };
        let operation = if self.rng.below(20) == 0 { "delete" } else { "create" };
        let (rev, rkey, cid) = (self.token(13), self.token(13), self.token(52));
        format!(
            r#"{{"did":"{did}","time_us":{},"kind":"commit","commit":{{"rev":"{rev}","operation":"{operation}","collection":"{collection}","rkey":"{rkey}","record":{record},"cid":"bafyrei{cid}"}}}}"#,
            self.time_us
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn events_are_valid_json_with_mixed_subject_types() {
        let mut g = EventGen::new(1, 1000);
        let (mut obj, mut string) = (0, 0);
        for _ in 0..2000 {
            let v = Value::from_json_str(&g.next_json()).unwrap();
            let subject = crate::path::FieldPath::parse("commit.record.subject").unwrap();
            match subject.get(&v) {
                Some(Value::Object(_)) => obj += 1,
                Some(Value::String(_)) => string += 1,
                _ => {}
            }
        }
        assert!(obj > 500 && string > 200, "{obj} {string}");
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (mut a, mut b) = (EventGen::new(7, 10), EventGen::new(7, 10));
        assert_eq!(a.next_json(), b.next_json());
    }
}
