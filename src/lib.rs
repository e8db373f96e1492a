//! jianbao (简报): search and daily digests over a folder of Chinese articles.
//!
//! The core (corpus, text, index, search, render, store, digest) knows nothing of Telegram;
//! `bot` adapts it to the Bot API and `console` to a terminal.

pub mod alerts;
pub mod app;
pub mod bot;
pub mod cli;
pub mod config;
pub mod console;
pub mod corpus;
pub mod digest;
pub mod fulltext;
pub mod html;
pub mod index;
pub mod render;
pub mod rescan;
pub mod schedule;
pub mod scheduler;
pub mod search;
pub mod service;
pub mod shelf;
pub mod store;
pub mod story;
pub mod subscriptions;
pub mod text;
