//! Puts a response's fields in the order the query asked for them, as the
//! GraphQL specification requires. async-graphql resolves an object's fields
//! concurrently and lists them in the order they finish, so a field that
//! waits on the database (say `totalCount`) moves behind one that does not.
//! The pipeline (`super::Pipeline`) applies this to every response, on
//! every transport.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use std::sync::Arc;

use async_graphql::{Name, Response, Value};

/// What a response must follow: the parsed document and the operation
/// that runs.
pub(super) struct QueryOrder {
    document: Option<Arc<ExecutableDocument>>,
    operation: Option<String>,
}

impl QueryOrder {
    pub(super) fn new(document: Option<Arc<ExecutableDocument>>, operation: Option<&str>) -> Self {
        Self {
            document,
            operation: operation.map(str::to_owned),
        }
    }

    pub(super) fn document(&self) -> Option<&ExecutableDocument> {
        self.document.as_deref()
    }

    pub(super) fn apply(&self, mut response: Response) -> Response {
        let Some(document) = &self.document else {
            return response;
        };
        let root = match (&document.operations, &self.operation) {
            (DocumentOperations::Single(op), _) => Some(&op.node.selection_set.node),
            (DocumentOperations::Multiple(ops), Some(name)) => {
                ops.get(name.as_str()).map(|op| &op.node.selection_set.node)
            }
            (DocumentOperations::Multiple(_), None) => None,
        };
        if let Some(root) = root {
            order(vec![&mut response.data], &[root], document);
        }
        response
    }
}

/// Orders every object in `values`, which all answer the same selection
/// sets. Siblings (the items of a list) share one walk of the document, so
/// the work grows with the response, not with the response times the query.
fn order(values: Vec<&mut Value>, sets: &[&SelectionSet], document: &ExecutableDocument) {
    let mut objects = Vec::with_capacity(values.len());
    let mut pending = values;
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => objects.push(map),
            Value::List(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
    if objects.is_empty() {
        return;
    }
    let mut fields = Vec::new();
    let mut spread = Vec::new();
    for set in sets {
        collect(set, document, &mut fields, &mut spread);
    }
    let position = |key: &Name| {
        fields
            .iter()
            .position(|(k, _)| *k == key)
            .unwrap_or(usize::MAX)
    };
    for map in &mut objects {
        if !map.keys().map(position).is_sorted() {
            map.sort_by(|a, _, b, _| position(a).cmp(&position(b)));
        }
    }
    for (key, children) in &fields {
        if children.is_empty() {
            continue;
        }
        let values = objects
            .iter_mut()
            .filter_map(|map| map.get_mut(*key))
            .collect();
        order(values, children, document);
    }
}

/// The response keys of `set` in query order, each with the selection sets
/// of the fields answering it (one key can be selected several times, also
/// through fragments). A fragment is expanded once per object, which bounds
/// the walk even for documents that validation will go on to refuse.
fn collect<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    fields: &mut Vec<(&'a Name, Vec<&'a SelectionSet>)>,
    spread: &mut Vec<&'a Name>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                let children = &field.node.selection_set.node;
                let index = match fields.iter().position(|(k, _)| *k == key) {
                    Some(index) => index,
                    None => {
                        fields.push((key, Vec::new()));
                        fields.len() - 1
                    }
                };
                if !children.items.is_empty() {
                    fields[index].1.push(children);
                }
            }
            Selection::FragmentSpread(fragment) => {
                let name = &fragment.node.fragment_name.node;
                if spread.contains(&name) {
                    continue;
                }
                spread.push(name);
                if let Some(definition) = document.fragments.get(name) {
                    collect(
                        &definition.node.selection_set.node,
                        document,
                        fields,
                        spread,
                    );
                }
            }
            Selection::InlineFragment(fragment) => {
                collect(&fragment.node.selection_set.node, document, fields, spread);
            }
        }
    }
}
