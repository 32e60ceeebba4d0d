//! "Did you mean …?" for near-miss names.

/// The closest candidate to `input`, if it is close enough to be a plausible typo.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean "x"?`, or a list of the valid names when nothing is close.
pub fn did_you_mean(input: &str, candidates: &[&str]) -> String {
    match closest(input, candidates.iter().copied()) {
        Some(c) => format!("did you mean \"{c}\"?"),
        None => format!("expected one of: {}", candidates.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses() {
        assert_eq!(
            closest("devics", ["devices", "env", "pip"]),
            Some("devices")
        );
        assert_eq!(closest("humbel", ["humble", "jazzy"]), Some("humble"));
        assert_eq!(closest("zzz", ["humble", "jazzy"]), None);
    }
}
