//! A small growable bitset backed by `SmallVec<[u64; 8]>` (inline up to 512 bits).

use smallvec::SmallVec;

/// Fixed-width set of `usize` indices. Width is chosen at construction; indices
/// outside the width are ignored by `insert` and reported absent by `contains`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BitSet {
    words: SmallVec<[u64; 8]>,
}

impl BitSet {
    /// An empty set able to hold indices `0..bits`.
    pub fn new(bits: usize) -> Self {
        let n = bits.div_ceil(64);
        let mut words = SmallVec::with_capacity(n);
        words.resize(n, 0);
        BitSet { words }
    }

    /// Capacity in bits (a multiple of 64).
    pub fn width(&self) -> usize {
        self.words.len() * 64
    }

    pub fn insert(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w |= 1u64 << (i % 64);
        }
    }

    pub fn remove(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w &= !(1u64 << (i % 64));
        }
    }

    pub fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Lowest member, if any.
    pub fn first(&self) -> Option<usize> {
        self.words
            .iter()
            .enumerate()
            .find(|(_, &w)| w != 0)
            .map(|(i, &w)| i * 64 + w.trailing_zeros() as usize)
    }

    /// Removes and returns the lowest member.
    pub fn pop_first(&mut self) -> Option<usize> {
        let f = self.first()?;
        self.remove(f);
        Some(f)
    }

    /// Removes every member below `k`.
    pub fn clear_below(&mut self, k: usize) {
        for (i, w) in self.words.iter_mut().enumerate() {
            let lo = i * 64;
            if k >= lo + 64 {
                *w = 0;
            } else if k > lo {
                *w &= !0u64 << (k - lo);
            }
        }
    }

    /// `self |= other`.
    pub fn union_with(&mut self, other: &BitSet) {
        for (a, b) in self.words.iter_mut().zip(other.words.iter()) {
            *a |= *b;
        }
    }

    /// `self &= other`.
    pub fn intersect_with(&mut self, other: &BitSet) {
        for (i, a) in self.words.iter_mut().enumerate() {
            *a &= other.words.get(i).copied().unwrap_or(0);
        }
    }

    /// `self &= !other`.
    pub fn difference_with(&mut self, other: &BitSet) {
        for (a, b) in self.words.iter_mut().zip(other.words.iter()) {
            *a &= !*b;
        }
    }

    /// `self |= (a & !b & c)` in one pass (the ESU extension step).
    pub fn union_masked(&mut self, a: &BitSet, not_b: &BitSet, c: &BitSet) {
        for (i, w) in self.words.iter_mut().enumerate() {
            let x = a.words.get(i).copied().unwrap_or(0);
            let y = not_b.words.get(i).copied().unwrap_or(0);
            let z = c.words.get(i).copied().unwrap_or(0);
            *w |= x & !y & z;
        }
    }

    /// True when the two sets share a member.
    pub fn intersects(&self, other: &BitSet) -> bool {
        self.words
            .iter()
            .zip(other.words.iter())
            .any(|(a, b)| a & b != 0)
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                if rest == 0 {
                    None
                } else {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    Some(wi * 64 + b)
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_contains() {
        let mut s = BitSet::new(130);
        assert_eq!(s.width(), 192);
        assert!(s.is_empty());
        s.insert(0);
        s.insert(64);
        s.insert(129);
        s.insert(5000); // out of width: ignored
        assert!(s.contains(0) && s.contains(64) && s.contains(129));
        assert!(!s.contains(1) && !s.contains(5000));
        assert_eq!(s.count(), 3);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 64, 129]);
        s.remove(64);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 129]);
        assert_eq!(s.pop_first(), Some(0));
        assert_eq!(s.pop_first(), Some(129));
        assert_eq!(s.pop_first(), None);
    }

    #[test]
    fn set_algebra() {
        let mut a = BitSet::new(100);
        let mut b = BitSet::new(100);
        for i in [1, 3, 70, 99] {
            a.insert(i);
        }
        for i in [3, 4, 70] {
            b.insert(i);
        }
        assert!(a.intersects(&b));
        let mut u = a.clone();
        u.union_with(&b);
        assert_eq!(u.iter().collect::<Vec<_>>(), vec![1, 3, 4, 70, 99]);
        let mut i = a.clone();
        i.intersect_with(&b);
        assert_eq!(i.iter().collect::<Vec<_>>(), vec![3, 70]);
        let mut d = a.clone();
        d.difference_with(&b);
        assert_eq!(d.iter().collect::<Vec<_>>(), vec![1, 99]);
        assert!(!d.intersects(&b));
        let mut all = BitSet::new(100);
        for k in 0..100 {
            all.insert(k);
        }
        let mut m = BitSet::new(100);
        m.union_masked(&all, &a, &b); // b minus a
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![4]);
        assert_eq!(m.first(), Some(4));
        let mut c = a.clone();
        c.clear_below(3);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![3, 70, 99]);
        c.clear_below(71);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![99]);
        c.clear_below(1000);
        assert!(c.is_empty());
    }

    #[test]
    fn large_width() {
        let mut s = BitSet::new(1024);
        for i in (0..1024).step_by(7) {
            s.insert(i);
        }
        assert_eq!(s.count(), 147);
        assert_eq!(s.iter().last(), Some(1022));
    }
}
