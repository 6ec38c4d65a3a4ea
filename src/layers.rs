//! The direction of dependency, checked: each module of `src/core` and
//! `src/binding` may name only modules declared before it in its layer list.
//! A new module must be added to the list (the check fails on an unknown one).

/// The core, bottom first.
const CORE: &[&str] = &[
    "error", "secret", "oid", "der", "strings", "string_hash", "time", "digest", "serial", "pem", "name_forms", "names",
    "general_names", "cert_info", "ec_keygen", "ml_dsa", "usage", "algorithm", "keys", "constraints", "extensions",
    "revocation", "signer", "options", "state", "store", "authority", "crl", "ocsp", "pkcs12", "acme",
];

/// The binding, bottom first; `mod.rs` (the registration) sits above all.
const BINDING: &[&str] = &[
    "abstract_box", "keywords", "string_hash", "values", "event_loop", "edge", "options", "ca_type", "store_type",
    "issuance", "revocation", "ocsp", "pkcs12", "store", "acme", "acme_tls", "version",
];

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file below `src/`: `core/store/mod.rs` is `[core, store]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs").to_string();
        if stem != "mod" {
            parts.push(stem);
        }
    }
    parts
}

/// The code of a file without its `#[cfg(test)]` tail and comments.
fn code(text: &str) -> String {
    let body = text.split("#[cfg(test)]").next().unwrap_or("");
    body.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every module path the code names: `super::x`, `super::super::x`, `crate::core::x`.
fn references(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let at_word = i == 0 || !is_ident(bytes[i - 1]);
        let rest: String = bytes[i..bytes.len().min(i + 200)].iter().collect();
        if at_word && (rest.starts_with("super::") || rest.starts_with("crate::")) {
            let path: String = rest.chars().take_while(|&c| is_ident(c) || c == ':').collect();
            let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let mut base: Vec<String> = Vec::new();
            let mut k = 0;
            if segs.first() == Some(&"crate") {
                k = 1;
            } else {
                base = module.to_vec();
                while segs.get(k) == Some(&"super") {
                    base.pop();
                    k += 1;
                }
            }
            base.extend(segs[k..].iter().map(|s| s.to_string()));
            found.push(base);
            i += path.len();
        } else {
            i += 1;
        }
    }
    found
}

/// Violations: `file: a names b, which is above it`.
fn violations(src: &Path) -> Vec<String> {
    let mut all = Vec::new();
    files(src, &mut all);
    let mut bad = Vec::new();
    for file in all {
        let Ok(rel) = file.strip_prefix(src) else { continue };
        let module = module_path(rel);
        let (layer, order) = match module.first().map(String::as_str) {
            Some("core") => ("core", CORE),
            Some("binding") => ("binding", BINDING),
            _ => continue,
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // The layer's own root (mod.rs) is its top: above every module in it.
        let own = module.get(1).map(|m| order.iter().position(|x| x == m));
        if let Some(None) = own {
            bad.push(format!("{}: module {} is not in the {layer} layer list of src/layers.rs", rel.display(), module[1]));
            continue;
        }
        for target in references(&module, &code(&text)) {
            if target.first().map(String::as_str) != Some(layer) {
                continue; // the other layer, or a crate path outside src/core and src/binding
            }
            let Some(name) = target.get(1) else {
                if module.len() > 1 {
                    bad.push(format!("{}: names the {layer} root, which is above it", rel.display()));
                }
                continue;
            };
            if module.get(1) == Some(name) {
                continue; // within one module
            }
            let Some(theirs) = order.iter().position(|x| x == name) else {
                // An item of the root (not a module of the list); an inline module's
                // `super::` resolves elsewhere, so only names the root has count.
                let root = std::fs::read_to_string(src.join(layer).join("mod.rs")).unwrap_or_default();
                let defined = root.split(|c: char| !is_ident(c)).any(|w| w == name);
                if module.len() > 1 && defined {
                    bad.push(format!("{}: names {name} of the {layer} root, which is above it", rel.display()));
                }
                continue;
            };
            if let Some(Some(mine)) = own {
                if theirs > mine {
                    bad.push(format!("{}: {} names {name}, which is above it", rel.display(), module[1]));
                }
            }
        }
        if layer == "core" && text.split("#[cfg(test)]").next().unwrap_or("").contains("crate::binding") {
            bad.push(format!("{}: the core names the binding", rel.display()));
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

#[test]
fn dependencies_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(bad.is_empty(), "upward dependencies:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_an_upward_name() {
    let module: Vec<String> = ["core", "keys"].iter().map(|s| s.to_string()).collect();
    let refs = references(&module, "use super::authority::Authority;\nfn f() { crate::core::store::x(); }");
    assert_eq!(refs[0], ["core", "authority", "Authority"]);
    assert_eq!(refs[1], ["core", "store", "x"]);
}
