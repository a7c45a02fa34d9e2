//! Documents that passed the limits, parsed, kept by their text. Clients
//! send the same few documents over and over (an app's queries, a page's
//! subscription), and parsing one with async-graphql's parser cost more
//! than the rest of its preparation: about 5% of the api's CPU on the
//! season page. A document found here is cloned instead, which is cheaper,
//! and is not checked again: the limits depend on its text alone.
//!
//! Bounded by what the kept documents take in memory, estimated from
//! their tokens: a parsed document is many times larger than its text (a
//! document of 2,000 bytes selecting 1,000 one-letter fields takes 180 KiB
//! parsed), so a bound on the texts alone would let a client that sends
//! such documents fill hundreds of megabytes. Clients that send a new
//! document each time only churn the cache; each of their documents is
//! parsed and checked as it would be without it.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;

/// What the kept documents may take, in all, by [`ByEstimate`].
const MAX_BYTES: u64 = 32 << 20;
/// Documents kept, as quick_cache's estimate for sizing its tables.
const ESTIMATED_DOCUMENTS: usize = 2_000;
/// A parsed document's bytes per lexical token, rounded up: measured for
/// async-graphql 7.2's documents from 51 (fields with arguments) to 92
/// (one-letter fields), 70 for the season page.
const BYTES_PER_TOKEN: u64 = 128;

pub struct AdmittedDocuments {
    documents: quick_cache::sync::Cache<String, Kept, ByEstimate>,
}

#[derive(Clone)]
struct Kept {
    document: Arc<ExecutableDocument>,
    tokens: usize,
}

#[derive(Clone)]
struct ByEstimate;

impl quick_cache::Weighter<String, Kept> for ByEstimate {
    fn weight(&self, text: &String, kept: &Kept) -> u64 {
        // The text is kept too, as the key.
        text.len() as u64 + kept.tokens as u64 * BYTES_PER_TOKEN
    }
}

impl Default for AdmittedDocuments {
    fn default() -> Self {
        Self {
            documents: quick_cache::sync::Cache::with_weighter(
                ESTIMATED_DOCUMENTS,
                MAX_BYTES,
                ByEstimate,
            ),
        }
    }
}

impl AdmittedDocuments {
    pub fn get(&self, text: &str) -> Option<Arc<ExecutableDocument>> {
        self.documents.get(text).map(|kept| kept.document)
    }

    /// Keeps a document that passed the limits, with its lexical tokens.
    pub fn keep(&self, text: &str, tokens: usize, document: Arc<ExecutableDocument>) {
        self.documents
            .insert(text.to_owned(), Kept { document, tokens });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_documents_by_their_text() {
        let cache = AdmittedDocuments::default();
        let text = "{ __typename }";
        let document = Arc::new(async_graphql::parser::parse_query(text).unwrap());
        cache.keep(text, 3, document.clone());
        assert!(Arc::ptr_eq(&cache.get(text).unwrap(), &document));
        assert!(cache.get("{ __schema { types { name } } }").is_none());
    }

    #[test]
    fn keeps_no_more_parsed_documents_than_its_bound_whatever_their_texts() {
        // 2,000 bytes of text, 1,000 tokens, 180 KiB parsed: 1,000 such
        // documents would take 180 MiB; a bound on text alone (2 MB of
        // it) would keep them all.
        let text = format!("{{ {} }}", vec!["a"; 998].join(" "));
        let tokens = crate::execution::document_limits::scan(&text, usize::MAX).tokens;
        let parsed = Arc::new(async_graphql::parser::parse_query(&text).unwrap());
        let cache = AdmittedDocuments::default();
        for i in 0..1_000 {
            cache.keep(&format!("{text}#{i}"), tokens, parsed.clone());
        }
        let kept = (0..1_000)
            .filter(|i| cache.get(&format!("{text}#{i}")).is_some())
            .count();
        let most = MAX_BYTES / (tokens as u64 * BYTES_PER_TOKEN);
        assert!(
            kept > 0 && kept as u64 <= most,
            "kept {kept} documents of {tokens} tokens; at most {most} fit"
        );
    }
}
