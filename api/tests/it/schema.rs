/// The committed SDL is the contract with clients; it must be what the code serves.
#[test]
fn the_committed_schema_is_what_the_code_generates() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
            .expect("schema.graphql at the workspace root");
    let generated = api::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is stale; regenerate it with `cargo run -p api -- print-schema > schema.graphql`"
    );
}
