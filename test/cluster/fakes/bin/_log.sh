# shellcheck shell=bash
# Shared by the fakes: appends "<name> <args>" to $FAKE_LOG.
fake_log() { printf '%s\n' "$*" >>"${FAKE_LOG:?FAKE_LOG not set}"; }
