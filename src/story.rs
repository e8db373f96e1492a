//! Near-duplicate signatures: the same story reposted under other accounts (转载) or run by
//! several news sites, with their own header, footer and chrome, is one story.
//!
//! An article's cleaned, folded body is reduced to its letters and digits (punctuation,
//! spaces and markup differ between copies), cut into overlapping character
//! [`SHINGLE`]-grams, and summarized by one-permutation MinHash: each shingle is hashed
//! once, the hash picks one of [`BINS`] bins, and each bin keeps its smallest hash. Two
//! signatures agree in a bin with probability equal to the Jaccard similarity J of the two
//! shingle sets, so the share of agreeing bins estimates it. Empty bins (short texts) are
//! filled from the next non-empty bin to the right ("rotation" densification), which keeps
//! the estimate unbiased for both sides alike.
//!
//! The decision is on *containment*, the share of the smaller text's shingles that the other
//! has: |A∩B| / min(|A|,|B|) = J (|A|+|B|) / ((1+J) min(|A|,|B|)), with the set sizes kept in
//! the signature. A repost that adds a header, a footer and a 往期推荐 list, or cuts
//! paragraphs, keeps a containment near 1 while its Jaccard falls to 0.3–0.8; on the labelled
//! set no Jaccard bar reached precision 0.99 with useful recall.
//!
//! Candidates are found by banding (locality-sensitive hashing): [`BANDS`] groups of
//! [`ROWS`] bins; two articles that agree on every bin of one band are compared in full.
//!
//! Thresholds were chosen on a labelled set of pairs (`benches/stories/`, BENCHMARKS.md):
//! true reposts with other chrome, cut paragraphs and traditional characters against
//! templated bulletins, weekly reports under the same headings and short image posts.

use chrono::NaiveDate;

/// Characters per shingle (three 21-bit code points fill a 63-bit window).
pub const SHINGLE: usize = 3;
/// Bins of the signature.
pub const BINS: usize = 128;
/// Bins per band, and bands: 42 × 3 = 126 bins take part in banding. A pair with J = 0.5 shares
/// a band with probability 1 − (1 − 0.5³)⁴² > 0.99; unrelated news (J ≈ 0.02) with 3·10⁻⁴.
pub const ROWS: usize = 3;
pub const BANDS: usize = BINS / ROWS;
/// Articles with fewer distinct shingles than this carry no story: deleted and blocked
/// notices are identical 17-shingle bodies, and short image posts (`分享图片`) alike say
/// nothing about being one story. 150 on the labelled set (`benches/stories/`).
pub const MIN_SHINGLES: u32 = 150;
/// Estimated containment at or above which two articles dated within [`NEAR_DAYS`] of each
/// other are one story (BENCHMARKS.md).
pub const SAME_STORY: f32 = 0.9;
/// Reposts come within days or weeks. The same words a year apart are mostly a recurring
/// text (an annual ceremony's announcement, a weekly job ad): articles further apart, or
/// without a date, need near-identical text.
pub const NEAR_DAYS: i64 = 45;
pub const SAME_STORY_FAR: f32 = 0.97;

/// Bits of a band key kept in the index, and how many bands are (see
/// [`Signature::bucket_terms`]).
pub const BUCKET_BITS: u32 = 12;
pub const INDEXED_BANDS: usize = BANDS / 2;

/// Bytes of a serialized signature: the shingle count, then the bins.
pub const SIGNATURE_BYTES: usize = 4 + BINS * 2;

/// One article's MinHash signature: its number of distinct shingles and a 16-bit fingerprint
/// of each bin's minimum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    shingles: u32,
    bins: [u16; BINS],
}

impl Signature {
    /// The signature of a folded body, or `None` when it has too little text to carry a story.
    pub fn of_text(folded_body: &str) -> Option<Signature> {
        // One pass, no copy of the text: a rolling window of the last three letters or digits.
        let mut hashes: Vec<u64> = Vec::with_capacity(folded_body.len() / 3);
        let mut window = 0u64;
        let mut seen = 0usize;
        for c in folded_body.chars().filter(|&c| is_letter_or_digit(c)) {
            window = ((window << 21) | u64::from(c)) & ((1 << 63) - 1);
            seen += 1;
            if seen >= SHINGLE {
                hashes.push(mix(window ^ 0x51_7C_C1_B7_27_22_0A_95));
            }
        }
        if hashes.len() < MIN_SHINGLES as usize {
            return None;
        }
        hashes.sort_unstable();
        hashes.dedup();
        let shingles = u32::try_from(hashes.len()).unwrap_or(u32::MAX);
        if shingles < MIN_SHINGLES {
            return None;
        }
        let mut mins = [u64::MAX; BINS];
        for h in hashes {
            // Top bits choose the bin, the rest compete for its minimum.
            let bin = (h >> (64 - BINS.trailing_zeros())) as usize;
            let rest = h << BINS.trailing_zeros();
            if rest < mins[bin] {
                mins[bin] = rest;
            }
        }
        let mut out = [0u16; BINS];
        for (i, slot) in out.iter_mut().enumerate() {
            // Rotation densification: an empty bin takes the next non-empty one's minimum,
            // salted with the distance so that two empty runs do not agree by accident.
            let (distance, min) = (0..BINS)
                .map(|d| (d, mins[(i + d) % BINS]))
                .find(|(_, m)| *m != u64::MAX)
                .unwrap_or((0, 0));
            *slot = (mix(min ^ (distance as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 48) as u16;
        }
        Some(Signature {
            shingles,
            bins: out,
        })
    }

    /// The estimated Jaccard similarity of the two shingle sets.
    pub fn jaccard(&self, other: &Signature) -> f32 {
        let same = self
            .bins
            .iter()
            .zip(&other.bins)
            .filter(|(a, b)| a == b)
            .count();
        same as f32 / BINS as f32
    }

    /// The estimated share of the smaller set's shingles that the other has (at most 1).
    pub fn containment(&self, other: &Signature) -> f32 {
        let j = self.jaccard(other);
        let (a, b) = (self.shingles as f32, other.shingles as f32);
        (j * (a + b) / ((1.0 + j) * a.min(b).max(1.0))).min(1.0)
    }

    /// One key per band: articles sharing a key are candidates of the same story.
    pub fn band_keys(&self) -> [u64; BANDS] {
        let mut keys = [0u64; BANDS];
        for (band, key) in keys.iter_mut().enumerate() {
            let mut h = band as u64;
            for &v in &self.bins[band * ROWS..(band + 1) * ROWS] {
                h = mix(h.wrapping_mul(0x1_0000) ^ u64::from(v));
            }
            *key = h;
        }
        keys
    }

    /// The band keys as the index stores them, to find candidates among the articles of
    /// earlier syncs: every other band ([`INDEXED_BANDS`] of them), each key cut to
    /// [`BUCKET_BITS`] bits and tagged with the band's number. Indexing all 42 full keys made
    /// 823,000 distinct terms of 19,594 articles and slowed a full build by 23 %; this costs
    /// a third of that (BENCHMARKS.md). A pair with J = 0.6 still shares an indexed band with
    /// probability 0.99 (0.94 at J = 0.5). A bucket shared by chance only adds a candidate,
    /// which the signature comparison then turns down. Within one sync all 42 bands are used.
    pub fn bucket_terms(&self) -> [u64; INDEXED_BANDS] {
        let keys = self.band_keys();
        let mut out = [0u64; INDEXED_BANDS];
        for (i, slot) in out.iter_mut().enumerate() {
            let band = i * 2;
            *slot = ((band as u64) << BUCKET_BITS) | (keys[band] & ((1 << BUCKET_BITS) - 1));
        }
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNATURE_BYTES);
        out.extend_from_slice(&self.shingles.to_le_bytes());
        out.extend(self.bins.iter().flat_map(|v| v.to_le_bytes()));
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Signature> {
        if bytes.len() != SIGNATURE_BYTES {
            return None;
        }
        let (count, rest) = bytes.split_at(4);
        let shingles = u32::from_le_bytes(count.try_into().ok()?);
        let mut bins = [0u16; BINS];
        for (slot, pair) in bins.iter_mut().zip(rest.chunks_exact(2)) {
            *slot = u16::from_le_bytes([pair[0], pair[1]]);
        }
        Some(Signature { shingles, bins })
    }
}

/// The containment two articles with these dates need to be one story.
pub fn bar(a: Option<NaiveDate>, b: Option<NaiveDate>) -> f32 {
    match (a, b) {
        (Some(a), Some(b)) if (a - b).num_days().abs() <= NEAR_DAYS => SAME_STORY,
        _ => SAME_STORY_FAR,
    }
}

/// Whether two articles, with their signatures and dates, are one story.
pub fn same_story(
    a: &Signature,
    a_date: Option<NaiveDate>,
    b: &Signature,
    b_date: Option<NaiveDate>,
) -> bool {
    a.containment(b) >= bar(a_date, b_date)
}

/// `char::is_alphanumeric` with the common cases first: CJK ideographs and ASCII are most
/// of the text, and the general lookup is slow for anything outside ASCII.
fn is_letter_or_digit(c: char) -> bool {
    match c {
        '\u{4E00}'..='\u{9FFF}' => true,
        _ if c.is_ascii() => c.is_ascii_alphanumeric(),
        _ => c.is_alphanumeric(),
    }
}

/// splitmix64's finalizer: a fast, well-spread 64-bit mix.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2024, 7, d)
    }

    const TEXT: &str = "国家互联网应急中心今日发布报告，指出去年勒索软件攻击数量同比上升三成，\
        其中制造业和医疗行业受害最重。报告建议企业加强备份、及时修补漏洞，并对员工开展安全培训。\
        专家表示，攻击者越来越多地利用供应链环节渗透，防护需要覆盖第三方软件和服务。\
        报告还统计了数据泄露事件的主要原因，配置错误和弱口令仍居前列，云服务暴露面持续扩大。\
        多家安全厂商同日表示，将与监管部门共享威胁情报，共同提升关键信息基础设施的防护能力。\
        报告最后指出，人工智能技术被用于生成钓鱼邮件和恶意代码，检测与响应的速度亟待提高，\
        各单位应建立常态化演练机制，明确应急处置流程和责任分工，确保发生事件时能够快速恢复业务。";

    const OTHER: &str = "今年秋粮收获进度过半，各地抢抓晴好天气组织机收，确保颗粒归仓。农业农村部派出工作组\
        分赴主产区指导烘干晾晒，防止霉变损失，同时做好秋冬种准备，扩大小麦油菜面积。\
        气象部门提醒，下周北方将有一次降温过程，请各地提前做好防范。粮食部门加强收购组织，\
        引导多元主体入市，保障农民售粮顺畅，防止出现卖粮难。各地还加快高标准农田建设进度。\
        水利部门抓紧修复水毁工程，确保明年春灌用水。农机合作社延长作业时间，跨区作业队伍\
        有序流动，交通部门为农机转运开辟绿色通道，免收通行费用，保障秋收秋种顺利推进。";

    #[test]
    fn a_repost_with_other_chrome_is_the_same_story() {
        let original = Signature::of_text(TEXT).expect("long enough");
        let repost = format!(
            "转载自某某公众号，点击蓝字关注我们。{TEXT}往期推荐：网络安全周报第十期。点赞在看，分享给更多朋友。"
        );
        let repost = Signature::of_text(&repost).expect("long enough");
        assert!(
            same_story(&original, day(1), &repost, day(3)),
            "{}",
            original.containment(&repost)
        );
    }

    #[test]
    fn different_texts_are_not() {
        let a = Signature::of_text(TEXT).expect("long enough");
        let b = Signature::of_text(OTHER).expect("long enough");
        assert!(a.containment(&b) < 0.2, "{}", a.containment(&b));
        assert!(!same_story(&a, day(1), &b, day(1)));
    }

    #[test]
    fn short_texts_carry_no_story() {
        assert!(Signature::of_text("分享图片").is_none());
        assert!(Signature::of_text(&"该内容已被发布者删除".repeat(30)).is_none());
    }

    #[test]
    fn bytes_round_trip_and_bands_agree_for_equal_signatures() {
        let s = Signature::of_text(TEXT).expect("long enough");
        assert_eq!(Signature::from_bytes(&s.to_bytes()), Some(s.clone()));
        assert_eq!(Signature::from_bytes(&[1, 2, 3]), None);
        let t = Signature::of_text(&format!("{TEXT}，")).expect("long enough");
        assert_eq!(s.band_keys(), t.band_keys());
    }

    #[test]
    fn a_copy_with_paragraphs_cut_is_contained() {
        let a = Signature::of_text(TEXT).expect("long enough");
        let cut: String = TEXT.chars().take(TEXT.chars().count() * 3 / 4).collect();
        let b = Signature::of_text(&cut).expect("long enough");
        assert!(same_story(&a, day(1), &b, day(2)), "{}", a.containment(&b));
        // A year apart, the same bar is not enough.
        let later = NaiveDate::from_ymd_opt(2025, 7, 2);
        assert!(a.containment(&b) < SAME_STORY_FAR || same_story(&a, day(1), &b, later));
        assert!(same_story(&a, day(1), &a, later));
    }
}
