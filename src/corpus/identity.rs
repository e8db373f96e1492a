//! Article identity by URL. The same WeChat article is reachable under many URLs (tracking
//! parameters, `scene`, `chksm`, fragments); `__biz` + `mid` + `idx` identify it. A file with
//! no usable URL is known by its content instead ([`content_key`]).

use url::Url;

/// Query parameters that only track the visit and never select content.
const TRACKING: &[&str] = &[
    "chksm",
    "scene",
    "subscene",
    "sessionid",
    "clicktime",
    "enterid",
    "from",
    "isappinstalled",
    "ascene",
    "devicetype",
    "version",
    "lang",
    "exportkey",
    "pass_ticket",
    "wx_header",
    "spm",
    "share_token",
    "sharer_sharetime",
    "sharer_shareid",
    "srcid",
    "poc_token",
    "sn_share",
    "fbclid",
    "gclid",
];

/// The identity of a file's content: a hash of its bytes. A file moved or renamed keeps it, so
/// an article without a URL keeps its number (and is not sent again) across a move.
pub fn content_key(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..32].to_owned()
}

/// A canonical key for an article URL, or `None` when there is no usable URL.
pub fn url_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    if host == "mp.weixin.qq.com"
        && let Some(key) = wechat_key(&url)
    {
        return Some(key);
    }
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    let path = url.path().trim_end_matches('/');
    let mut key = format!("{host}{path}");
    if !params.is_empty() {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        key.push('?');
        key.push_str(&query.join("&"));
    }
    Some(key)
}

fn wechat_key(url: &Url) -> Option<String> {
    if let Some(token) = url.path().strip_prefix("/s/")
        && !token.is_empty()
    {
        return Some(format!("wx:s/{token}"));
    }
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let (biz, mid, idx) = (
        get("__biz")?,
        get("mid").or_else(|| get("appmsgid"))?,
        get("idx").or_else(|| get("itemidx"))?,
    );
    Some(format!("wx:{biz}:{mid}:{idx}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_tracking_parameters_do_not_matter() {
        let a = "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=2664219335&idx=4&sn=cf27&chksm=8b59&scene=58&subscene=0#rd";
        let b = "http://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=2664219335&idx=4&sn=cf27&scene=21#wechat_redirect";
        let c = "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=2664219335&idx=3&sn=cf27";
        assert_eq!(url_key(a), url_key(b));
        assert_ne!(url_key(a), url_key(c));
    }

    #[test]
    fn other_sites_drop_utm_and_fragments() {
        assert_eq!(
            url_key("https://www.Example.com/news/1/?utm_source=x&id=2#top"),
            url_key("http://example.com/news/1?id=2")
        );
        assert_eq!(url_key(""), None);
        assert_eq!(url_key("not a url"), None);
    }
}
