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

/// Root fields whose answer depends on who asks: the viewer's own data
/// (`me`, and everything of a user is reached through it) and what only
/// admins read. Every other field answers everyone alike, except where
/// spoiler-free mode hides results, and a viewer in that mode is never
/// answered from a shared cache. So a query that selects none of these,
/// from anyone not in spoiler-free mode, has the anonymous answer, and the
/// response cache may keep and serve it (`http::response_cache`). A new
/// root field goes in this list or in the test's list of public ones.
pub const VIEWER_FIELDS: &[&str] = &["me", "deliveries", "deadLetters", "failedJobs"];

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    /// Fields every viewer outside spoiler-free mode sees alike.
    const PUBLIC_FIELDS: &[&str] = &[
        "competitions",
        "competition",
        "season",
        "teams",
        "team",
        "matches",
        "match",
        "standings",
        "bracket",
        "scorers",
        "headToHead",
        // The deployment's VAPID public key: the same for every viewer.
        "webPushPublicKey",
    ];

    #[test]
    fn every_root_field_is_either_public_or_viewer_specific() {
        let sdl = crate::graphql::sdl();
        let schema = async_graphql::parser::parse_schema(&sdl).unwrap();
        let fields: Vec<String> = schema
            .definitions
            .iter()
            .find_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == "Query" => {
                    match &ty.node.kind {
                        TypeKind::Object(object) => Some(
                            object
                                .fields
                                .iter()
                                .map(|f| f.node.name.node.to_string())
                                .collect(),
                        ),
                        _ => None,
                    }
                }
                _ => None,
            })
            .unwrap();
        for field in &fields {
            assert!(
                super::VIEWER_FIELDS.contains(&field.as_str())
                    != PUBLIC_FIELDS.contains(&field.as_str()),
                "Query.{field} must be in exactly one of VIEWER_FIELDS and PUBLIC_FIELDS: \
                 does its answer depend on who asks?"
            );
        }
        assert_eq!(
            fields.len(),
            super::VIEWER_FIELDS.len() + PUBLIC_FIELDS.len()
        );
    }
}
