//! The query root, merged from one object per area.

mod competitions;
mod matches;
mod me;
mod operations;
mod standings;
mod teams;
mod web_push;

#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    competitions::CompetitionQuery,
    teams::TeamQuery,
    matches::MatchQuery,
    standings::StandingsQuery,
    me::MeQuery,
    operations::OperationsQuery,
    web_push::WebPushQuery,
);
