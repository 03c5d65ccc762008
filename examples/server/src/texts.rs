//! The storefront's texts: one catalogue per language, `assets/i18n/en.json` and `sw.json`
//! (flat keys to texts, with `{placeholder}`s the pages fill in), served at
//! `/assets/i18n/<language>.json`, and the shop's own wording of them.
//!
//! A shop edits its texts without rebuilding: `POCHI_TEXTS_DIR` names a directory holding
//! `en.json` and/or `sw.json`, each a JSON object of some of the catalogue's keys and the text
//! the shop wants instead. They are read and checked once, at startup, and merged over the
//! built-in catalogues. A file whose key the catalogue does not have (a typo, or a key a newer
//! Pochi renamed), whose value is not a string, or whose text uses a placeholder the built-in
//! text does not have is refused, naming the file and the key, so a mistake never reaches a
//! customer as a raw key or a literal `{placeholder}`. A `.json` file for another language is
//! refused too; other files (notes, backups) are left alone.

use std::{
    collections::BTreeSet,
    fmt,
    path::{Path, PathBuf},
};

use axum::body::Bytes;
use serde_json::{Map, Value};

/// The languages of the storefront, as `<html lang>` and the catalogues' file names say them.
pub const LANGUAGES: [&str; 2] = ["en", "sw"];

/// The catalogues built into the binary, by language.
const BUILT_IN: [(&str, &str); 2] = [
    ("en", include_str!("../assets/i18n/en.json")),
    ("sw", include_str!("../assets/i18n/sw.json")),
];

/// The catalogues the storefront is served: the built-in texts with the shop's overrides.
/// Cheap to clone.
#[derive(Clone)]
pub struct Texts {
    /// `(language, the catalogue as JSON)`, in [`LANGUAGES`]' order.
    catalogues: Vec<(&'static str, Bytes)>,
    /// How many texts the shop overrode, for the log.
    overridden: usize,
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Texts")
            .field("languages", &LANGUAGES)
            .field("overridden", &self.overridden)
            .finish()
    }
}

/// Why the shop's texts were refused: the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct TextsError {
    /// The file (or directory) at fault.
    pub file: PathBuf,
    /// What is wrong, naming the key.
    pub message: String,
}

impl Texts {
    /// The built-in catalogues.
    pub fn built_in() -> Result<Texts, TextsError> {
        Texts::load(None)
    }

    /// The built-in catalogues with the overrides in `dir` (see the module docs), if given.
    pub fn load(dir: Option<&Path>) -> Result<Texts, TextsError> {
        let mut catalogues = Vec::with_capacity(BUILT_IN.len());
        let mut overridden = 0;
        for (language, text) in BUILT_IN {
            let built_in_file = PathBuf::from(format!("assets/i18n/{language}.json"));
            let mut catalogue = parse_object(text, &built_in_file)?;
            if let Some(dir) = dir {
                let file = dir.join(format!("{language}.json"));
                if let Some(text) = read_if_present(&file)? {
                    let overrides = parse_object(&text, &file)?;
                    overridden += merge(&mut catalogue, overrides, &file)?;
                }
            }
            let json = serde_json::to_vec(&Value::Object(catalogue)).map_err(|e| TextsError {
                file: built_in_file,
                message: e.to_string(),
            })?;
            catalogues.push((language, Bytes::from(json)));
        }
        if let Some(dir) = dir {
            refuse_other_languages(dir)?;
        }
        Ok(Texts {
            catalogues,
            overridden,
        })
    }

    /// The catalogue of `language` as JSON, if the storefront speaks it.
    pub(crate) fn catalogue(&self, language: &str) -> Option<&Bytes> {
        self.catalogues
            .iter()
            .find(|(lang, _)| *lang == language)
            .map(|(_, json)| json)
    }

    /// How many texts the shop's files replaced.
    pub fn overridden(&self) -> usize {
        self.overridden
    }
}

fn parse_object(text: &str, file: &Path) -> Result<Map<String, Value>, TextsError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(TextsError {
            file: file.to_owned(),
            message: "must be a JSON object of keys and texts, such as {\"nav.cart\": \"Kikapu\"}"
                .to_owned(),
        }),
        Err(e) => Err(TextsError {
            file: file.to_owned(),
            message: format!("is not valid JSON: {e}"),
        }),
    }
}

fn read_if_present(file: &Path) -> Result<Option<String>, TextsError> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TextsError {
            file: file.to_owned(),
            message: format!("cannot be read: {e}"),
        }),
    }
}

/// Puts `overrides` over `catalogue`; the number of texts replaced.
fn merge(
    catalogue: &mut Map<String, Value>,
    overrides: Map<String, Value>,
    file: &Path,
) -> Result<usize, TextsError> {
    let refuse = |message: String| TextsError {
        file: file.to_owned(),
        message,
    };
    let count = overrides.len();
    for (key, value) in overrides {
        let Some(Value::String(built_in)) = catalogue.get(&key) else {
            return Err(refuse(format!(
                "unknown key {key:?}: the catalogue has no such text (see \
                 examples/server/assets/i18n/ for the keys)"
            )));
        };
        let Value::String(text) = value else {
            return Err(refuse(format!("the value of {key:?} must be a string")));
        };
        let known = placeholders(built_in);
        if let Some(unknown) = placeholders(&text).difference(&known).next() {
            let known = known
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(refuse(format!(
                "the text of {key:?} uses {{{unknown}}}, which the page does not fill in \
                 (it fills in: {})",
                if known.is_empty() { "nothing" } else { &known }
            )));
        }
        catalogue.insert(key, Value::String(text));
    }
    Ok(count)
}

/// The `{name}` placeholders of a text.
pub(crate) fn placeholders(text: &str) -> BTreeSet<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .collect()
}

/// A `.json` file in the directory for a language the storefront does not speak is a mistake
/// (`sw-KE.json`, `swahili.json`), not something to ignore in silence.
fn refuse_other_languages(dir: &Path) -> Result<(), TextsError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TextsError {
        file: dir.to_owned(),
        message: format!("cannot be read: {e}"),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path
            .extension()
            .filter(|ext| *ext == "json")
            .and_then(|_| path.file_stem())
            .and_then(|stem| stem.to_str())
        else {
            continue;
        };
        if !LANGUAGES.contains(&stem) {
            return Err(TextsError {
                file: path.clone(),
                message: format!(
                    "the storefront's languages are {}: name the file en.json or sw.json",
                    LANGUAGES.join(" and ")
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(texts: &Texts, language: &str) -> Map<String, Value> {
        serde_json::from_slice(texts.catalogue(language).unwrap()).unwrap()
    }

    #[test]
    fn the_catalogues_have_the_same_keys_and_placeholders() {
        let texts = Texts::built_in().unwrap();
        let en = catalogue(&texts, "en");
        let sw = catalogue(&texts, "sw");
        let en_keys: BTreeSet<&String> = en.keys().collect();
        let sw_keys: BTreeSet<&String> = sw.keys().collect();
        assert_eq!(
            en_keys.symmetric_difference(&sw_keys).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "keys in one catalogue only"
        );
        for (key, text) in &en {
            let en_text = text.as_str().unwrap_or_else(|| panic!("en {key}"));
            let sw_text = sw[key].as_str().unwrap_or_else(|| panic!("sw {key}"));
            assert!(!sw_text.trim().is_empty(), "sw {key} is empty");
            assert_eq!(
                placeholders(en_text),
                placeholders(sw_text),
                "placeholders of {key}"
            );
        }
    }

    #[test]
    fn placeholders_are_names_in_braces() {
        assert_eq!(
            placeholders("Risiti {order} · {shop} {} {not a name}")
                .into_iter()
                .collect::<Vec<_>>(),
            ["order", "shop"]
        );
    }

    #[test]
    fn a_shop_overrides_a_text_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("sw.json"),
            r#"{"nav.cart": "Kapu", "shop.added": "{product} iko kwenye kapu lako."}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("README.txt"), "notes").unwrap();

        let texts = Texts::load(Some(dir.path())).unwrap();

        let sw = catalogue(&texts, "sw");
        assert_eq!(sw["nav.cart"], "Kapu");
        assert_eq!(sw["shop.added"], "{product} iko kwenye kapu lako.");
        assert_eq!(sw["nav.track"], "Fuatilia oda");
        assert_eq!(catalogue(&texts, "en")["nav.cart"], "Cart");
        assert_eq!(texts.overridden(), 2);
    }

    #[test]
    fn an_override_the_catalogue_cannot_use_is_refused_naming_the_file_and_key() {
        for (file, content, says) in [
            (
                "sw.json",
                r#"{"nav.kart": "Kapu"}"#,
                "unknown key \"nav.kart\"",
            ),
            (
                "en.json",
                r#"{"nav.cart": 3}"#,
                "the value of \"nav.cart\" must be a string",
            ),
            (
                "sw.json",
                r#"{"shop.added": "{item} imewekwa"}"#,
                "uses {item}, which the page does not fill in (it fills in: {product})",
            ),
            ("sw.json", r#"["Kapu"]"#, "must be a JSON object"),
            ("sw.json", "{\"nav.cart\": ", "is not valid JSON"),
            ("swahili.json", "{}", "name the file en.json or sw.json"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(file), content).unwrap();

            let err = Texts::load(Some(dir.path())).unwrap_err();

            assert_eq!(err.file, dir.path().join(file), "{content}");
            assert!(err.to_string().contains(says), "{content}: {err}");
        }
    }

    #[test]
    fn a_missing_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("texts");
        let err = Texts::load(Some(&missing)).unwrap_err();
        assert_eq!(err.file, missing);
        assert!(err.message.contains("cannot be read"), "{err}");
    }
}
