//! Registration, sign-in, tokens and account deletion, as a client sees them.

use chrono::{Duration, Utc};
use entity::{api_token, follow, notification, notification_preference, user};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, field_errors, seed, seed_notifications};

const REGISTER: &str = "mutation($input: RegisterInput!) {
    register(input: $input) { token expiresAt user { id email displayName role timeZone } } }";
const LOGIN: &str = "mutation($email: String!, $password: String!) {
    login(email: $email, password: $password) { token user { email role } } }";
const ME: &str = "{ me { email displayName role timeZone } }";

fn registration(email: &str) -> Value {
    json!({ "input": {
        "email": email, "password": "correct horse battery", "displayName": "Ada",
        "timeZone": "Europe/Paris" } })
}

async fn users(app: &TestApp) -> u64 {
    user::Entity::find().count(&app.db).await.unwrap()
}

#[tokio::test]
async fn registering_returns_a_token_that_signs_the_new_user_in_as_user() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(REGISTER, registration("  Ada@Example.COM "))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let registered = &body["data"]["register"];
    assert_eq!(
        registered["user"],
        json!({ "id": registered["user"]["id"], "email": "ada@example.com",
                "displayName": "Ada", "role": "USER", "timeZone": "Europe/Paris" })
    );
    let token = registered["token"].as_str().unwrap();
    assert!(token.starts_with("itg_"), "{token}");

    let me = app.graphql_as(token, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "ada@example.com", "{me}");
    assert_eq!(me["data"]["me"]["role"], "USER");
    app.stop().await;
}

#[tokio::test]
async fn the_password_is_stored_as_an_argon2id_hash_and_the_token_as_its_sha256() {
    let app = TestApp::spawn().await;
    let body = app.graphql(REGISTER, registration("ada@example.com")).await;
    let token = body["data"]["register"]["token"].as_str().unwrap();

    let stored = user::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "{}",
        stored.password_hash
    );
    assert!(!stored.password_hash.contains("correct horse"));
    let tokens = api_token::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].token_hash, service::accounts::token::hash(token));
    assert!(!tokens[0].token_hash.contains(token));
    let ttl = tokens[0].expires_at - tokens[0].created_at;
    assert_eq!(ttl, Duration::hours(720), "the default TOKEN_TTL_HOURS");
    app.stop().await;
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case_and_the_duplicate_is_a_field_error() {
    let app = TestApp::spawn().await;
    app.graphql(REGISTER, registration("ada@example.com")).await;
    let body = app.graphql(REGISTER, registration("ADA@example.com")).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field_errors(&body, "email"), ["is already registered"]);
    assert_eq!(body["data"], Value::Null);
    assert_eq!(users(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn every_bad_registration_field_is_named_with_a_clear_message_and_nothing_is_written() {
    let app = TestApp::spawn_with(&["--auth-attempts-per-ip-per-minute", "100"]).await;
    let base = json!({ "email": "ada@example.com", "password": "correct horse battery",
                       "displayName": "Ada", "timeZone": "UTC" });
    let cases: &[(&str, Value, &str)] = &[
        ("email", json!(""), "is required"),
        (
            "email",
            json!("ada.example.com"),
            "must look like name@example.com",
        ),
        (
            "email",
            json!("ada@localhost"),
            "the part after @ must be a domain such as example.com",
        ),
        (
            "email",
            json!("ada lovelace@example.com"),
            "must not contain spaces or control characters",
        ),
        ("password", json!("short"), "must be at least 8 characters"),
        (
            "password",
            json!("x".repeat(129)),
            "must be at most 128 characters",
        ),
        ("displayName", json!("  "), "is required"),
        (
            "timeZone",
            json!("Mars/Olympus"),
            "'Mars/Olympus' is not an IANA time zone name such as Europe/London",
        ),
    ];
    for (field, value, message) in cases {
        let mut input = base.clone();
        input[*field] = value.clone();
        let body = app.graphql(REGISTER, json!({ "input": input })).await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{field}={value}: {body}"
        );
        assert_eq!(
            field_errors(&body, field),
            [*message],
            "{field}={value}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{body}"
        );
    }
    // Several problems at once are all reported.
    let body = app
        .graphql(
            REGISTER,
            json!({ "input": { "email": "x", "password": "y", "displayName": "" } }),
        )
        .await;
    let fields = body["errors"][0]["extensions"]["fields"]
        .as_object()
        .unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["displayName", "email", "password"]
    );
    assert_eq!(users(&app).await, 0, "nothing was written");
    app.stop().await;
}

#[tokio::test]
async fn login_issues_a_new_token_and_a_wrong_password_or_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let account = accounts::user(&app.db, "ada@example.com").await;
    let body = app
        .graphql(
            LOGIN,
            json!({ "email": "ADA@example.com", "password": accounts::PASSWORD }),
        )
        .await;
    let token = body["data"]["login"]["token"].as_str().unwrap();
    assert_ne!(token, account.token);
    assert_eq!(body["data"]["login"]["user"]["email"], "ada@example.com");

    let wrong_password = app
        .graphql(
            LOGIN,
            json!({ "email": "ada@example.com", "password": "wrong password" }),
        )
        .await;
    let unknown_email = app
        .graphql(
            LOGIN,
            json!({ "email": "bob@example.com", "password": accounts::PASSWORD }),
        )
        .await;
    for body in [&wrong_password, &unknown_email] {
        assert_eq!(error_code(body), Some("UNAUTHENTICATED"), "{body}");
        assert_eq!(
            body["errors"][0]["message"],
            "the email or password is wrong"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_token_stops_working_after_logout_while_the_other_sessions_go_on() {
    let app = TestApp::spawn().await;
    let account = accounts::user(&app.db, "ada@example.com").await;
    let other = service::accounts::login(
        &app.db,
        "ada@example.com",
        accounts::PASSWORD,
        Duration::hours(1),
    )
    .await
    .unwrap()
    .token;

    let body = app
        .graphql_as(&account.token, "mutation { logout }", json!({}))
        .await;
    assert_eq!(body["data"]["logout"], true, "{body}");

    let response = app.post_as(Some(&account.token), ME, json!({})).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    let me = app.graphql_as(&other, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "ada@example.com", "{me}");
    app.stop().await;
}

#[tokio::test]
async fn a_token_stops_working_once_it_has_expired() {
    let app = TestApp::spawn().await;
    accounts::user(&app.db, "ada@example.com").await;
    // A session of a few seconds, used (and so known to the api) before it ends.
    let signed_in = service::accounts::login(
        &app.db,
        "ada@example.com",
        accounts::PASSWORD,
        Duration::seconds(3),
    )
    .await
    .unwrap();
    for _ in 0..2 {
        assert!(app.graphql_as(&signed_in.token, ME, json!({})).await["data"]["me"].is_object());
    }

    let left = (signed_in.expires_at - Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(left + std::time::Duration::from_millis(100)).await;
    let response = app.post_as(Some(&signed_in.token), ME, json!({})).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_bad_token_is_refused_rather_than_treated_as_anonymous() {
    let app = TestApp::spawn().await;
    for header in ["Bearer itg_not-a-real-token", "Basic YWRhOnB3", "Bearer "] {
        let response = app
            .http
            .post(app.url("/graphql"))
            .header("authorization", header)
            .json(&json!({ "query": "{ teams { name } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{header}: {body}"
        );
        assert!(body.get("data").is_none(), "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_account_removes_everything_that_was_its_own_and_ends_its_sessions() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let bob = accounts::user(&app.db, "bob@example.com").await;
    let team = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    for account in [&ada, &bob] {
        let body = app
            .graphql_as(
                &account.token,
                "mutation($t: ID!) { followTeam(teamId: $t) { followedAt } }",
                json!({ "t": team.id.to_string() }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        seed_notifications::notification(&app.db, account.id, "Goal!", false, false).await;
    }

    let wrong = app
        .graphql_as(
            &ada.token,
            "mutation { deleteAccount(password: \"not it at all\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&wrong), Some("BAD_USER_INPUT"), "{wrong}");
    assert_eq!(
        field_errors(&wrong, "password"),
        ["is not this account's password"]
    );
    assert_eq!(users(&app).await, 2);

    let body = app
        .graphql_as(
            &ada.token,
            "mutation($p: String!) { deleteAccount(password: $p) }",
            json!({ "p": accounts::PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["deleteAccount"], true, "{body}");

    let response = app.post_as(Some(&ada.token), ME, json!({})).await;
    assert_eq!(response.status(), 401);
    assert!(
        user::Entity::find_by_id(ada.id)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    let count_for = |id: i64| {
        let db = app.db.clone();
        async move {
            (
                api_token::Entity::find()
                    .filter(api_token::Column::UserId.eq(id))
                    .count(&db)
                    .await
                    .unwrap(),
                follow::Entity::find()
                    .filter(follow::Column::UserId.eq(id))
                    .count(&db)
                    .await
                    .unwrap(),
                notification_preference::Entity::find_by_id(id)
                    .count(&db)
                    .await
                    .unwrap(),
                notification::Entity::find()
                    .filter(notification::Column::UserId.eq(id))
                    .count(&db)
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(count_for(ada.id).await, (0, 0, 0, 0), "ada's rows are gone");
    assert_eq!(
        count_for(bob.id).await,
        (1, 1, 1, 1),
        "bob's rows are untouched"
    );
    let me = app.graphql_as(&bob.token, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "bob@example.com");
    app.stop().await;
}

#[tokio::test]
async fn the_create_user_command_bootstraps_an_admin_who_can_then_sign_in() {
    let app = TestApp::spawn().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .args([
            "create-user",
            "--email",
            "Root@Example.com",
            "--role",
            "admin",
            "--password",
            "admin password 1",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("<root@example.com> with role ADMIN"),
        "{stdout}"
    );

    let body = app
        .graphql(
            LOGIN,
            json!({ "email": "root@example.com", "password": "admin password 1" }),
        )
        .await;
    assert_eq!(body["data"]["login"]["user"]["role"], "ADMIN", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn the_create_user_command_without_a_password_or_terminal_says_what_to_do() {
    let app = TestApp::spawn().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .args([
            "create-user",
            "--email",
            "root@example.com",
            "--role",
            "admin",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim(),
        "error: no terminal to ask for the password on; pass --password"
    );
    assert_eq!(users(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn an_admin_changes_roles_but_the_last_admin_cannot_step_down() {
    let app = TestApp::spawn().await;
    let admin = accounts::create(&app.db, "root@example.com", entity::UserRole::Admin).await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let set_role =
        "mutation($u: ID!, $r: Role!) { setUserRole(userId: $u, role: $r) { id email role } }";

    let body = app
        .graphql_as(
            &admin.token,
            set_role,
            json!({ "u": ada.id.to_string(), "r": "FEED" }),
        )
        .await;
    assert_eq!(body["data"]["setUserRole"]["role"], "FEED", "{body}");
    let me = app.graphql_as(&ada.token, ME, json!({})).await;
    assert_eq!(
        me["data"]["me"]["role"], "FEED",
        "the new role applies to existing tokens"
    );

    let body = app
        .graphql_as(
            &admin.token,
            set_role,
            json!({ "u": admin.id.to_string(), "r": "USER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "the last admin cannot give up the ADMIN role"
    );

    let body = app
        .graphql_as(
            &admin.token,
            set_role,
            json!({ "u": "999999", "r": "USER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    app.stop().await;
}

#[test]
fn a_bad_token_ttl_or_rate_limit_is_refused_in_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("TOKEN_TTL_HOURS", "0"),
        ("TOKEN_TTL_HOURS", "a month"),
        ("AUTH_ATTEMPTS_PER_EMAIL_PER_MINUTE", "-1"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_api"))
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(var, value)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("error: {var}")), "{stderr}");
    }
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    let ann = accounts::create(&app.db, "ann@example.com", entity::UserRole::Admin).await;
    let bea = accounts::create(&app.db, "bea@example.com", entity::UserRole::Admin).await;
    let set_role = "mutation($u: ID!) { setUserRole(userId: $u, role: USER) { role } }";
    let (a, b) = tokio::join!(
        app.graphql_as(&ann.token, set_role, json!({ "u": bea.id.to_string() })),
        app.graphql_as(&bea.token, set_role, json!({ "u": ann.id.to_string() })),
    );
    let (winner, loser) = if a.get("errors").is_none() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert_eq!(winner["data"]["setUserRole"]["role"], "USER", "{a} {b}");
    // The loser either saw the change (CONFLICT) or had already lost the
    // role when its request was admitted (FORBIDDEN); never INTERNAL.
    let code = error_code(loser).unwrap_or_default();
    assert!(["CONFLICT", "FORBIDDEN"].contains(&code), "{a} {b}");
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(entity::UserRole::Admin))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(admins, 1, "{a} {b}");
    app.stop().await;
}
