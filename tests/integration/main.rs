//! Integration tests: real clients (suppaftp, curl, Python's ftplib, raw
//! sockets) against a real server. One test binary, so it links once.

mod access;
mod cli;
mod clients;
mod concurrency;
mod control;
mod custom;
mod difftest;
mod docs;
mod errors;
mod faults;
mod files;
mod framework;
mod info;
mod options;
mod permissions;
mod personalities;
mod reliability;
mod replay;
mod seams;
mod support;
mod tls;
mod transcripts;
mod transfer;
