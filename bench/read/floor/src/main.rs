//! The season page as the api answers it, served by async-graphql on axum
//! from memory: the same document, the same response, the same engine and
//! HTTP stack, and no database, limits, cache or field-order walk. What it
//! costs per request is the least any request of the api can cost on this
//! machine, so `bench/read/run.sh` measures it beside the api and
//! PostGraphile (`FLOOR_BIN`).
//!
//! `read-floor PORT ANSWER.json`, where ANSWER.json is the api's own answer
//! to the season page (`{"data":{"matches":{"nodes":[…]}}}`).

use async_graphql::{
    EmptyMutation, EmptySubscription, ID, InputObject, Object, Schema, SimpleObject,
};
use serde::Deserialize;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Clone, Deserialize, SimpleObject)]
struct Team {
    name: String,
}

#[derive(Clone, Deserialize, SimpleObject)]
struct Score {
    home: i32,
    away: i32,
}

/// A match as the season page selects it.
#[derive(Clone, Deserialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(rename_fields = "camelCase")]
struct Match {
    id: ID,
    kickoff_at: String,
    status: String,
    home_team: Team,
    away_team: Team,
    score: Score,
}

#[derive(SimpleObject)]
struct MatchConnection {
    nodes: Vec<Match>,
}

#[derive(InputObject)]
#[graphql(rename_fields = "camelCase")]
struct MatchFilter {
    #[allow(dead_code)] // Accepted as the api accepts it; one season is held.
    season_id: Option<ID>,
}

struct Query {
    page: Vec<Match>,
}

#[Object]
impl Query {
    async fn matches(&self, first: Option<i32>, filter: Option<MatchFilter>) -> MatchConnection {
        let _ = filter;
        let first = usize::try_from(first.unwrap_or(50)).unwrap_or(0);
        MatchConnection {
            nodes: self.page.iter().take(first).cloned().collect(),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    matches: Page,
}

#[derive(Deserialize)]
struct Page {
    nodes: Vec<Match>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(answer)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: read-floor PORT ANSWER.json");
    };
    let answer: Answer = serde_json::from_slice(&std::fs::read(answer)?)?;
    let schema = Schema::build(
        Query {
            page: answer.data.matches.nodes,
        },
        EmptyMutation,
        EmptySubscription,
    )
    .finish();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post_service(async_graphql_axum::GraphQL::new(schema)),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
