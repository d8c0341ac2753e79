//! keepalived.conf text from a small tree of statements: the importers build the tree, this
//! module only lays it out (indentation, quoting), so each importer is tested on the tree's
//! meaning and the layout is tested once.

use std::fmt::Write as _;

/// One item of a keepalived.conf block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `# text` on a line of its own.
    Comment(String),
    /// A keyword and its values.
    Line(Vec<String>),
    /// A keyword, its values and a `{ ... }` block.
    Block(Vec<String>, Vec<Item>),
}

impl Item {
    pub fn comment(text: impl Into<String>) -> Item {
        Item::Comment(text.into())
    }

    /// A statement from words given as `&str` or `String`.
    pub fn line<S: ToString>(words: &[S]) -> Item {
        Item::Line(words.iter().map(ToString::to_string).collect())
    }

    pub fn block<S: ToString>(words: &[S], items: Vec<Item>) -> Item {
        Item::Block(words.iter().map(ToString::to_string).collect(), items)
    }
}

/// A word as keepalived reads it back: quoted when it holds a space, a comment character or a
/// brace. keepalived has no escapes, so a word holding a `"` cannot be written; the importers
/// refuse such values before they get here (see [`writable`]).
fn word(w: &str) -> String {
    if w.is_empty() || w.contains([' ', '\t', '#', '!', '{', '}']) {
        format!("\"{w}\"")
    } else {
        w.to_string()
    }
}

/// Whether keepalived can read the value back as one word (it has no way to escape a `"`, and
/// a line ends a word).
pub fn writable(value: &str) -> bool {
    !value.contains(['"', '\n', '\r'])
}

/// The configuration text of `items`, four spaces per level.
pub fn render(items: &[Item]) -> String {
    let mut out = String::new();
    render_into(&mut out, items, 0);
    out
}

fn render_into(out: &mut String, items: &[Item], depth: usize) {
    let indent = "    ".repeat(depth);
    for item in items {
        match item {
            Item::Comment(text) => {
                // Each line of a multi-line note stays a comment.
                for l in text.lines() {
                    let _ = writeln!(out, "{indent}# {l}");
                }
            }
            Item::Line(words) => {
                let _ = writeln!(out, "{indent}{}", join(words));
            }
            Item::Block(words, inner) => {
                let _ = writeln!(out, "{indent}{} {{", join(words));
                render_into(out, inner, depth + 1);
                let _ = writeln!(out, "{indent}}}");
            }
        }
    }
}

fn join(words: &[String]) -> String {
    words.iter().map(|w| word(w)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_quoting() {
        let items = vec![
            Item::comment("from line 1\nand line 2"),
            Item::block(
                &["virtual_server", "10.0.0.1", "80"],
                vec![
                    Item::line(&["lvs_sched", "wrr"]),
                    Item::block(
                        &["real_server", "10.0.0.2", "80"],
                        vec![Item::block(
                            &["HTTP_GET"],
                            vec![Item::block(
                                &["url"],
                                vec![Item::line(&["path", "/a"]), Item::line(&["regex", "It works # here"])],
                            )],
                        )],
                    ),
                ],
            ),
            Item::line(&["misc_path", "/bin/check {x}"]),
            Item::line(&["name", ""]),
        ];
        let expected = "\
# from line 1
# and line 2
virtual_server 10.0.0.1 80 {
    lvs_sched wrr
    real_server 10.0.0.2 80 {
        HTTP_GET {
            url {
                path /a
                regex \"It works # here\"
            }
        }
    }
}
misc_path \"/bin/check {x}\"
name \"\"
";
        assert_eq!(render(&items), expected);
    }

    #[test]
    fn writable_values() {
        for (value, ok) in [("plain", true), ("with space", true), ("say \"hi\"", false), ("two\nlines", false)] {
            assert_eq!(writable(value), ok, "{value:?}");
        }
    }
}
