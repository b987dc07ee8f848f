//! NIP-01 events (SPEC.md §15.4, §16.5): the event type, its id, signing, its compact JSON and
//! the checks of a received event object. The one implementation is `kez_channels::event`
//! (the `nostr` proof channel uses it too); this module re-exports it for direct messages.

pub use kez_channels::event::{
    Event, EventError, decimal_len, event_id, event_json_len, first_tag_value, hex,
    json_string_len, tags_from_value, tags_len, unhex, write_json_string, write_serialization,
    write_tags,
};
