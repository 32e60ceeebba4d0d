//! REP 149 `condition="…"` attributes of package.xml: `$VAR`, bare words, `==`, `!=`, `and`,
//! `or` and parentheses. A variable robodev does not know is the empty string, as catkin_pkg
//! has it (it reads the environment).

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Var(String),
    Eq,
    Ne,
    And,
    Or,
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let word = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '=' | '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(if c == '=' { Token::Eq } else { Token::Ne });
                i += 2;
            }
            '$' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                if end == start {
                    return Err("`$` must be followed by a variable name".into());
                }
                out.push(Token::Var(chars[start..end].iter().collect()));
                i = end;
            }
            c if word(c) => {
                let start = i;
                while i < chars.len() && word(chars[i]) {
                    i += 1;
                }
                let w: String = chars[start..i].iter().collect();
                out.push(match w.as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    _ => Token::Word(w),
                });
            }
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    vars: &'a BTreeMap<String, String>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    // or := and ("or" and)*
    fn or(&mut self) -> Result<bool, String> {
        let mut value = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.next();
            let rhs = self.and()?;
            value = value || rhs;
        }
        Ok(value)
    }

    // and := comparison ("and" comparison)*
    fn and(&mut self) -> Result<bool, String> {
        let mut value = self.comparison()?;
        while self.peek() == Some(&Token::And) {
            self.next();
            let rhs = self.comparison()?;
            value = value && rhs;
        }
        Ok(value)
    }

    // comparison := "(" or ")" | operand ("==" | "!=") operand
    fn comparison(&mut self) -> Result<bool, String> {
        if self.peek() == Some(&Token::Open) {
            self.next();
            let value = self.or()?;
            return match self.next() {
                Some(Token::Close) => Ok(value),
                _ => Err("a `(` is not closed".into()),
            };
        }
        let lhs = self.operand()?;
        let op = self.next();
        let rhs = self.operand()?;
        match op {
            Some(Token::Eq) => Ok(lhs == rhs),
            Some(Token::Ne) => Ok(lhs != rhs),
            _ => Err("expected `==` or `!=` between two values".into()),
        }
    }

    fn operand(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w),
            Some(Token::Var(v)) => Ok(self.vars.get(&v).cloned().unwrap_or_default()),
            _ => Err("expected a value (`$ROS_VERSION`, `2`, `humble`)".into()),
        }
    }
}

/// Evaluate a condition with `vars` (`ROS_VERSION`, `ROS_DISTRO`, `ROS_PYTHON_VERSION`).
pub fn evaluate(condition: &str, vars: &BTreeMap<String, String>) -> Result<bool, String> {
    let mut parser = Parser {
        tokens: tokens(condition)?,
        at: 0,
        vars,
    };
    let value = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err("unexpected text after the condition".into());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("ROS_VERSION".into(), "2".into()),
            ("ROS_DISTRO".into(), "humble".into()),
            ("ROS_PYTHON_VERSION".into(), "3".into()),
        ])
    }

    #[test]
    fn rep_149_expressions() {
        let v = vars();
        assert!(evaluate("$ROS_VERSION == 2", &v).unwrap());
        assert!(!evaluate("$ROS_VERSION == 1", &v).unwrap());
        assert!(evaluate("$ROS_DISTRO != noetic", &v).unwrap());
        assert!(evaluate("$ROS_VERSION == 1 or $ROS_PYTHON_VERSION == 3", &v).unwrap());
        assert!(
            !evaluate(
                "$ROS_VERSION == 2 and ($ROS_DISTRO == foxy or $ROS_DISTRO == galactic)",
                &v
            )
            .unwrap()
        );
        assert!(evaluate("($ROS_VERSION == 2)", &v).unwrap());
        assert!(
            evaluate("$UNKNOWN == ''", &v).is_err(),
            "quotes are not REP 149"
        );
        assert!(evaluate("$UNKNOWN != x", &v).unwrap(), "unknown is empty");
        assert!(evaluate("$ROS_VERSION 2", &v).is_err());
        assert!(evaluate("($ROS_VERSION == 2", &v).is_err());
    }
}
