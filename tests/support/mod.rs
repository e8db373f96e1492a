//! Shared by the integration tests (`mod support;`) and the benches (by path):
//!
//! - [`fake_api`]: a fake Telegram Bot API server on 127.0.0.1 that a real teloxide `Bot`
//!   talks to, recording every request and injecting the failures the bot must survive;
//! - [`telegram_html`]: Telegram's HTML parse mode as a checker (also used by `fuzz/`);
//! - [`bot_harness`]: the whole bot in the test's process against a fake;
//! - [`cli`]: the `jianbao` binary run on temporary folders;
//! - [`ram_index`]: an in-memory index with a chosen segment layout (also used by `fuzz/`).

// Each test crate includes this module and uses a different subset of it; unused helpers
// are not a defect there.
#![allow(dead_code)]

pub mod bot_harness;
pub mod cli;
pub mod fake_api;
pub mod http;
pub mod ram_index;
pub mod telegram_html;

// The common names, for `use support::{…}`; a test crate that needs none of them is fine.
#[allow(unused_imports)]
pub use bot_harness::{BotHarness, WAIT, buttons, valid_html};
#[allow(unused_imports)]
pub use fake_api::*;
#[allow(unused_imports)]
pub use telegram_html::check_telegram_html;
