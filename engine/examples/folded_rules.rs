use parapet_engine::anchor::{derive, PHRASE_MIN_LITERAL};
use parapet_engine::{builtin_rules, Category, Gate};
fn main() {
    let rules = builtin_rules().unwrap();
    let mut n = 0;
    for r in &rules {
        if r.category != Category::Injection || r.anchor.is_some() || r.gate != Gate::Hyperscan {
            continue;
        }
        if derive(&r.pattern, PHRASE_MIN_LITERAL).is_some() {
            continue;
        }
        n += 1;
        let low = (3..PHRASE_MIN_LITERAL)
            .rev()
            .find_map(|m| derive(&r.pattern, m).map(|d| (m, d)));
        match low {
            Some((m, d)) => println!(
                "{} min={} {:?}",
                r.id,
                m,
                d.literals
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect::<Vec<_>>()
            ),
            None => println!("{} NONE", r.id),
        }
    }
    println!("{n} folded");
}
