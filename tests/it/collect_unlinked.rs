//! The precision of unlinked citations on the real-world corpus, against
//! the rows judged by hand in `tests/corpus/unlinked-judgements.json`.
//!
//! Every unlinked citation `collect` reports on the corpus is matched to
//! its judged row (file, line, text); the share judged right must stay at
//! or above 0.90 (issue 10, item 7), and almost every row reported must
//! have been judged, so that a change bringing new rows has them read.

use std::collections::BTreeMap;

use citeguard::collect::{CollectConfig, collect_all};
use citeguard::model::Kind;

use crate::collect_scripts::corpus;

#[test]
fn unlinked_citations_on_the_corpus_are_at_least_ninety_percent_right() {
    const TARGET: f64 = 0.90;
    // Rows reported but not judged yet, at most (a tenth of the judged).
    const UNJUDGED_SHARE: f64 = 0.10;
    let (cache, manifest) = corpus();
    let judged: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus/unlinked-judgements.json"),
        )
        .expect("tests/corpus/unlinked-judgements.json"),
    )
    .expect("judgements are JSON");
    let mut verdicts: BTreeMap<(String, u64, String), (bool, String)> = BTreeMap::new();
    for row in judged["rows"].as_array().expect("rows") {
        let key = (
            row["file"].as_str().unwrap_or("").to_string(),
            row["line"].as_u64().unwrap_or(0),
            row["text"].as_str().unwrap_or("").to_string(),
        );
        let why = row["why"].as_str().unwrap_or("").to_string();
        verdicts.insert(key, (row["verdict"] == "yes", why));
    }
    let (mut right, mut wrong, mut unjudged) = (0usize, 0usize, Vec::new());
    // Right and wrong rows per format and per script group, printed so
    // that a group the total hides is seen.
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for entry in manifest["files"].as_array().expect("files") {
        if entry["format"] == "sitemap" {
            continue; // collect would fetch every URL it lists
        }
        let id = entry["id"].as_str().expect("id");
        let group_keys = [
            format!("format {}", entry["format"].as_str().unwrap_or("?")),
            format!(
                "script {}",
                entry["script_group"]
                    .as_str()
                    .or(entry["script"].as_str())
                    .unwrap_or("?")
            ),
        ];
        let path = cache.join(entry["path"].as_str().expect("path"));
        let config = CollectConfig {
            base_url: entry["base"].as_str().map(str::to_string),
            ..CollectConfig::default()
        };
        let (posts, _) = collect_all(&[path.display().to_string()], &config);
        for c in posts
            .iter()
            .flat_map(|p| &p.citations)
            .filter(|c| c.kind == Kind::Unlinked)
        {
            let key = (id.to_string(), c.line as u64, c.text.clone());
            let judged = verdicts.get(&key);
            for g in &group_keys {
                let tally = groups.entry(g.clone()).or_default();
                match judged {
                    Some((true, _)) => tally.0 += 1,
                    Some((false, _)) => tally.1 += 1,
                    None => {}
                }
            }
            match judged {
                Some((true, _)) => right += 1,
                Some((false, why)) => {
                    wrong += 1;
                    println!("wrong  {id}:{} {:?}: {why}", c.line, c.text);
                }
                None => unjudged.push(format!("{id}:{} {:?}", c.line, c.text)),
            }
        }
    }
    for u in &unjudged {
        println!("not judged yet: {u}");
    }
    for (group, (r, w)) in &groups {
        println!(
            "{group:<24} {r:>4} right of {:<4} precision {:.3}",
            r + w,
            *r as f64 / (r + w).max(1) as f64
        );
    }
    let rows = right + wrong;
    let precision = right as f64 / rows.max(1) as f64;
    println!(
        "unlinked citations: {rows} judged rows reported, {right} right, precision {precision:.3} \
         (target {TARGET}); {} not judged",
        unjudged.len()
    );
    assert!(rows >= 100, "only {rows} judged rows are still reported");
    assert!(
        precision >= TARGET,
        "precision {precision:.3} is below {TARGET}"
    );
    assert!(
        unjudged.len() as f64 <= UNJUDGED_SHARE * rows as f64,
        "{} rows reported were never judged: read them and add them to \
         tests/corpus/unlinked-judgements.json",
        unjudged.len()
    );
}
