//! Documents that passed the limits, parsed, kept by their text. Clients
//! send the same few documents over and over (an app's queries, a page's
//! subscription), and parsing one with async-graphql's parser cost more
//! than the rest of its preparation: about 5% of the api's CPU on the
//! season page. A document found here is cloned instead, which is cheaper,
//! and is not checked again: the limits depend on its text alone.
//!
//! Bounded by the bytes of the texts kept (a parsed document grows with
//! its text, and the text is bounded by the request size limit). Clients
//! that send a new document each time only churn the cache; each of their
//! documents is parsed and checked as it would be without it.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;

/// The text kept, in all: at most this many bytes of documents.
const MAX_BYTES: u64 = 4 << 20;
/// Documents kept, as quick_cache's estimate for sizing its tables.
const ESTIMATED_DOCUMENTS: usize = 2_000;

pub struct AdmittedDocuments {
    documents: quick_cache::sync::Cache<String, Arc<ExecutableDocument>, ByText>,
}

#[derive(Clone)]
struct ByText;

impl quick_cache::Weighter<String, Arc<ExecutableDocument>> for ByText {
    fn weight(&self, text: &String, _: &Arc<ExecutableDocument>) -> u64 {
        // The key is kept as well; a few bytes more for the entry itself.
        text.len() as u64 + 64
    }
}

impl Default for AdmittedDocuments {
    fn default() -> Self {
        Self {
            documents: quick_cache::sync::Cache::with_weighter(
                ESTIMATED_DOCUMENTS,
                MAX_BYTES,
                ByText,
            ),
        }
    }
}

impl AdmittedDocuments {
    pub fn get(&self, text: &str) -> Option<Arc<ExecutableDocument>> {
        self.documents.get(text)
    }

    pub fn keep(&self, text: &str, document: Arc<ExecutableDocument>) {
        self.documents.insert(text.to_owned(), document);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_documents_by_their_text_within_its_bytes() {
        let cache = AdmittedDocuments::default();
        let text = "{ __typename }";
        let document = Arc::new(async_graphql::parser::parse_query(text).unwrap());
        cache.keep(text, document.clone());
        assert!(Arc::ptr_eq(&cache.get(text).unwrap(), &document));
        assert!(cache.get("{ __schema { types { name } } }").is_none());

        // Far more text than the bound: the cache keeps no more than it.
        let big = format!("{{ __typename {} }}", " ".repeat(1 << 20));
        let parsed = Arc::new(async_graphql::parser::parse_query(&big).unwrap());
        for i in 0..8 {
            cache.keep(&format!("{big}#{i}"), parsed.clone());
        }
        let kept = (0..8)
            .filter(|i| cache.get(&format!("{big}#{i}")).is_some())
            .count();
        assert!(kept < 8, "kept {kept} documents of 1 MiB within 4 MiB");
    }
}
