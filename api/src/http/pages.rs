//! What a browser gets: the live scoreboard at `/`, GraphiQL at
//! `GET /graphql`, the scoreboard's service worker at `/push-sw.js` (it
//! shows Web Push notifications), the SDL at `/schema.graphql`, the README and
//! ARCHITECTURE under `/docs/`, and the pages' scripts and styles under
//! `/assets/`. Everything is compiled into the binary
//! (`api/assets/`, with GraphiQL, React and the graphql-ws client vendored
//! from npm), so a browser needs nothing but this server.
//!
//! An asset's path carries a hash of its bytes, so it can be cached for a
//! year: a new build that changes a file changes its path, and the pages,
//! which are never cached, name the new one.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;

use crate::AppState;

struct Asset {
    /// The file's name under `api/assets/`.
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../assets/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: [Asset; 9] = [
    asset!("vendor/graphiql-3.9.0.min.js", JS),
    asset!("vendor/graphiql-3.9.0.min.css", CSS),
    asset!("vendor/react-18.3.1.production.min.js", JS),
    asset!("vendor/react-dom-18.3.1.production.min.js", JS),
    asset!("vendor/graphql-ws-6.0.6.min.js", JS),
    asset!("graphiql.js", JS),
    asset!("scoreboard.js", JS),
    asset!("scoreboard.css", CSS),
    asset!("favicon.svg", "image/svg+xml"),
];

/// Each asset's public path, e.g. `/assets/graphiql.4f1c2a9b.js`.
static PATHS: LazyLock<Vec<String>> = LazyLock::new(|| ASSETS.iter().map(hashed_path).collect());

fn hashed_path(asset: &Asset) -> String {
    let hash = hex_prefix(&Sha256::digest(asset.bytes));
    let file = asset.name.rsplit('/').next().unwrap_or(asset.name);
    match file.rsplit_once('.') {
        Some((stem, ext)) => format!("/assets/{stem}.{hash}.{ext}"),
        None => format!("/assets/{file}.{hash}"),
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// A page template with every `{{name}}` of an asset replaced by its path.
fn render(template: &str) -> String {
    ASSETS
        .iter()
        .zip(PATHS.iter())
        .fold(template.to_owned(), |page, (asset, path)| {
            page.replace(&format!("{{{{{}}}}}", asset.name), path)
        })
}

static GRAPHIQL: LazyLock<String> =
    LazyLock::new(|| render(include_str!("../../assets/graphiql.html")));
static SCOREBOARD: LazyLock<String> =
    LazyLock::new(|| render(include_str!("../../assets/index.html")));

/// Scripts and styles come from this origin only (no CDN, nothing inline
/// but styles, which GraphiQL sets on its elements); the pages talk to
/// `/graphql` over HTTP and websockets.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(scoreboard))
        .route("/assets/{file}", get(asset))
        .route("/push-sw.js", get(service_worker))
        .route("/schema.graphql", get(schema))
        .route(
            "/docs/README.md",
            get(|| text(include_str!("../../../README.md"))),
        )
        .route(
            "/docs/ARCHITECTURE.md",
            get(|| text(include_str!("../../../ARCHITECTURE.md"))),
        )
        // GraphiQL's bundle is ~1 MB; gzip brings it to a third.
        .layer(CompressionLayer::new())
}

/// GraphiQL, for a browser's `GET /graphql`.
pub fn graphiql() -> Response {
    page(&GRAPHIQL)
}

async fn scoreboard() -> Response {
    page(&SCOREBOARD)
}

fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page names the current assets, so it is checked each time.
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        html,
    )
        .into_response()
}

/// The service worker, at a fixed path at the root: a worker controls
/// only pages under its own path, and a browser checks it for updates
/// itself, so it is never cached. It fetches nothing.
async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, JS),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        include_str!("../../assets/push-sw.js"),
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    let requested = format!("/assets/{file}");
    let Some(asset) = PATHS
        .iter()
        .position(|path| *path == requested)
        .map(|i| &ASSETS[i])
    else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

async fn schema() -> Response {
    static SDL: LazyLock<String> = LazyLock::new(crate::graphql::sdl);
    text(SDL.as_str()).await
}

/// Plain text, so that a browser shows it rather than downloading it.
async fn text(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_a_page_names_is_served() {
        for page in [GRAPHIQL.as_str(), SCOREBOARD.as_str()] {
            assert!(!page.contains("{{"), "a placeholder was left: {page}");
            for src in page.split("=\"/assets/").skip(1) {
                let path = format!("/assets/{}", src.split('"').next().unwrap_or_default());
                assert!(PATHS.contains(&path), "{path} is not served");
            }
        }
    }

    #[test]
    fn an_asset_path_changes_with_its_bytes() {
        let a = Asset {
            name: "x.js",
            content_type: JS,
            bytes: b"1",
        };
        let b = Asset {
            name: "x.js",
            content_type: CSS,
            bytes: b"2",
        };
        assert_ne!(hashed_path(&a), hashed_path(&b));
        assert!(hashed_path(&a).starts_with("/assets/x.") && hashed_path(&a).ends_with(".js"));
    }
}
