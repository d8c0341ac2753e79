//! Golden cases: `tests/router/sync_group.jsonl`, one case a line: the members' states (a
//! trailing `!` marks a faulty member), the event, the moves expected, and the state the group
//! then agrees on (after the moves) given the one it agreed on before.

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    case: String,
    members: Vec<String>,
    #[serde(default)]
    follow: Option<(usize, String)>,
    #[serde(default)]
    decide: Option<String>,
    moves: Vec<(usize, String)>,
    last: Option<String>,
    agrees: Option<String>,
}

fn state(name: &str) -> State {
    match name {
        "INIT" => State::Initialize,
        "MASTER" => State::Master,
        "BACKUP" => State::Backup,
        "FAULT" => State::Fault,
        other => panic!("unknown state {other}"),
    }
}

fn member(text: &str) -> Member {
    let faulty = text.ends_with('!');
    Member { state: state(text.trim_end_matches('!')), faulty }
}

#[test]
fn golden_sync_group_cases() {
    let cases = include_str!("../../../tests/router/sync_group.jsonl");
    let mut n = 0;
    for (line, json) in cases.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(json).unwrap_or_else(|e| panic!("sync_group.jsonl:{}: {e}", line + 1));
        let mut members: Vec<Member> = case.members.iter().map(|m| member(m)).collect();
        let moves = match (&case.follow, &case.decide) {
            (Some((i, to)), None) => {
                members[*i].state = state(to);
                follow(&members, *i, state(to))
            }
            (None, Some(wanted)) => decide(&members, state(wanted)),
            _ => panic!("sync_group.jsonl:{}: one of follow or decide", line + 1),
        };
        let expected: Vec<(usize, State)> = case.moves.iter().map(|(i, s)| (*i, state(s))).collect();
        assert_eq!(moves, expected, "sync_group.jsonl:{}: {}", line + 1, case.case);
        for (i, s) in moves {
            members[i].state = s;
        }
        let agreed = agreement(&members, case.last.as_deref().map(state));
        assert_eq!(
            agreed,
            case.agrees.as_deref().map(state),
            "sync_group.jsonl:{}: {}: agreement",
            line + 1,
            case.case
        );
        n += 1;
    }
    assert!(n >= 8, "only {n} cases read");
}
