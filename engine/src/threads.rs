//! Start-up work spread over short-lived scoped threads: each item mapped on its own worker,
//! the results back in the items' order, and everything done on the calling thread when no
//! thread can be started (a process limit), so start-up never fails for want of one.

/// `f` of each item, in order, worked out on up to `threads` threads. Items are dealt out in
/// turn (item `i` to worker `i % threads`), so neighbouring costly items are spread.
pub(crate) fn map_in_order<T, R>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let mut workers = Vec::with_capacity(threads);
        for t in 0..threads {
            let work = move || {
                items
                    .iter()
                    .skip(t)
                    .step_by(threads)
                    .map(f)
                    .collect::<Vec<_>>()
            };
            match std::thread::Builder::new().spawn_scoped(scope, work) {
                Ok(worker) => workers.push(worker),
                Err(_) => return items.iter().map(f).collect(),
            }
        }
        let mut parts: Vec<std::vec::IntoIter<R>> = workers
            .into_iter()
            .map(|w| w.join().expect("start-up work does not panic").into_iter())
            .collect();
        (0..items.len())
            .map(|i| parts[i % threads].next().expect("one result per item"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order() {
        let items: Vec<u32> = (0..100).collect();
        for threads in [1, 2, 3, 8, 200] {
            assert_eq!(
                map_in_order(&items, threads, |x| x * 2),
                items.iter().map(|x| x * 2).collect::<Vec<_>>()
            );
        }
        assert!(map_in_order(&[] as &[u32], 4, |x| *x).is_empty());
    }
}
