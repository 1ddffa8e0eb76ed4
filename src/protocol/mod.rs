//! The protocol's own vocabulary, shared by every layer above: a reply,
//! a parsed command, and the settings commands make (TYPE, PROT, the
//! listing formats). A leaf: it uses nothing else of the crate.

mod command;
mod reply;

pub(crate) use command::{
    has_list_flag, split, strip_list_flags, strip_list_flags_only, Command, EpsvArg, ListFormat,
    ParseError, Protection, TransferType, IMPLEMENTED,
};
pub(crate) use reply::{encode_lines, Reply};
