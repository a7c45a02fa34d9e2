use async_graphql::{ID, Object};
use entity::team;

/// A club or national team.
pub struct Team(pub team::Model);

#[Object]
impl Team {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    /// Three-letter code, e.g. `ARS`.
    async fn tla(&self) -> Option<&str> {
        self.0.tla.as_deref()
    }
    async fn area(&self) -> Option<&str> {
        self.0.area.as_deref()
    }
    async fn founded(&self) -> Option<i32> {
        self.0.founded
    }
    async fn venue(&self) -> Option<&str> {
        self.0.venue.as_deref()
    }
    async fn crest_url(&self) -> Option<&str> {
        self.0.crest_url.as_deref()
    }
    /// Stable, URL-friendly name, e.g. `manchester-city-fc`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
}
