//! The query root, merged from one object per area.

mod matches;
mod me;
mod teams;

#[derive(async_graphql::MergedObject, Default)]
pub struct QueryRoot(teams::TeamQuery, matches::MatchQuery, me::MeQuery);
