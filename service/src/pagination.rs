//! Keyset pagination for Relay connections. A cursor is the sort key of a
//! row, so a page stays stable while rows are inserted before or after it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};

use crate::{Error, Result};

/// The largest page a client may ask for.
pub const MAX_PAGE: u64 = 100;
/// The page size when a client gives neither `first` nor `last`.
pub const DEFAULT_PAGE: u64 = 20;

/// Which end of the ordering a page is taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    /// `first` items after `after`.
    Start,
    /// `last` items before `before`.
    End,
}

/// A validated page request over keys of type `K`.
#[derive(Clone, Debug)]
pub struct PageRequest<K> {
    pub from: From,
    pub size: u64,
    pub after: Option<K>,
    pub before: Option<K>,
}

impl<K: DeserializeOwned> PageRequest<K> {
    /// Checks the Relay arguments: `first` and `last` are 1 to 100, not both,
    /// and cursors are ones this API handed out.
    pub fn parse(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<Self> {
        let size = |field: &str, n: i32| {
            u64::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    Error::invalid(field, format!("must be between 1 and {MAX_PAGE}, got {n}"))
                })
        };
        let (from, size) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "last",
                    "give either first or last, not both",
                ));
            }
            (Some(n), None) => (From::Start, size("first", n)?),
            (None, Some(n)) => (From::End, size("last", n)?),
            (None, None) => (From::Start, DEFAULT_PAGE),
        };
        Ok(Self {
            from,
            size,
            after: after.map(|c| decode_cursor("after", c)).transpose()?,
            before: before.map(|c| decode_cursor("before", c)).transpose()?,
        })
    }
}

/// One page of rows in the requested order, with what lies beyond it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with one extra row of look-ahead,
    /// read from the end the request started at.
    pub fn from_lookahead<K>(request: &PageRequest<K>, mut rows: Vec<T>) -> Self {
        let size = usize::try_from(request.size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        match request.from {
            From::Start => Self {
                rows,
                // A cursor names a row that comes before this page.
                has_previous_page: request.after.is_some(),
                has_next_page: more,
            },
            From::End => {
                rows.reverse();
                Self {
                    rows,
                    has_previous_page: more,
                    has_next_page: request.before.is_some(),
                }
            }
        }
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    let json = serde_json::to_vec(key).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The key an `encode_cursor` cursor holds; `field` names the argument
/// in the error a foreign or garbled cursor gets.
pub fn decode_cursor<K: DeserializeOwned>(field: &str, cursor: &str) -> Result<K> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| Error::invalid(field, "not a cursor from this list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Key = (String, i64);

    #[test]
    fn first_must_be_between_1_and_100() {
        for bad in [0, -1, 101] {
            let err = PageRequest::<Key>::parse(Some(bad), None, None, None).unwrap_err();
            assert!(err.to_string().contains("between 1 and 100"), "{err}");
        }
        assert_eq!(
            PageRequest::<Key>::parse(Some(100), None, None, None)
                .unwrap()
                .size,
            100
        );
    }

    #[test]
    fn first_and_last_together_are_refused() {
        assert!(PageRequest::<Key>::parse(Some(1), None, Some(1), None).is_err());
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let cursor = encode_cursor(&("b".to_owned(), 7_i64));
        let request = PageRequest::<Key>::parse(Some(5), Some(&cursor), None, None).unwrap();
        assert_eq!(request.after, Some(("b".to_owned(), 7)));
        let err = PageRequest::<Key>::parse(Some(5), Some("nonsense!"), None, None).unwrap_err();
        assert!(err.to_string().contains("after: not a cursor"), "{err}");
    }

    #[test]
    fn a_page_read_from_the_end_comes_back_in_order() {
        let request = PageRequest::<Key>::parse(None, None, Some(2), None).unwrap();
        let page = Page::from_lookahead(&request, vec![3, 2, 1]);
        assert_eq!(page.rows, vec![2, 3]);
        assert!(page.has_previous_page);
        assert!(!page.has_next_page);
    }
}

/// One page of rows listed newest first by their id, with what Relay's
/// `pageInfo` needs.
#[derive(Debug)]
pub struct NewestFirst<M> {
    pub items: Vec<M>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// Matching rows on every page.
    pub total_count: u64,
}

/// Up to `first` rows of `select` after the one with id `after`, newest
/// first. Ids only grow, so keyset pagination on the id stays stable while
/// new rows arrive.
pub async fn newest_first<E>(
    db: &impl sea_orm::ConnectionTrait,
    select: sea_orm::Select<E>,
    id: E::Column,
    first: u64,
    after: Option<i64>,
) -> Result<NewestFirst<E::Model>>
where
    E: sea_orm::EntityTrait,
    E::Model: Send + Sync,
{
    use sea_orm::QuerySelect as _;
    use sea_orm::{ColumnTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _};

    if !(1..=MAX_PAGE).contains(&first) {
        return Err(Error::invalid(
            "first",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let total_count = select.clone().count(db).await?;
    let select = match after {
        Some(after) => select.filter(id.lt(after)),
        None => select,
    };
    let mut items = select.order_by_desc(id).limit(first + 1).all(db).await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(NewestFirst {
        items,
        has_next_page,
        has_previous_page: after.is_some(),
        total_count,
    })
}
