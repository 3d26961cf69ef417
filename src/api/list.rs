//! Reading a JSON:API collection whole: `page[size]=100`, the first page alone (it says how
//! many there are), then every other page at once (the client's `--rps` limiter paces them),
//! then, should the list have grown meanwhile, `meta.pagination.next-page` one page at a
//! time. A page past the end is `200` with an empty `data`, so the loop follows `next-page`,
//! never "until empty" (reference §1). Bounded: a server claiming more than [`MAX_PAGES`]
//! pages is refused rather than followed. Query parameters are percent-encoded here (the
//! brackets of `page[size]` included), so that `Api` stays a method and a path.

use futures_util::future::join_all;
use serde_json::Value;

use super::{Api, ApiError, Body, Method, Response};

/// The page size asked for: the API's documented maximum (seed 002).
pub const PAGE_SIZE: u64 = 100;

/// The most pages read of one list: 20,000 items at 100 a page, far beyond any installation's
/// tool versions, and a bound on what a hostile server can make the tool fetch.
pub const MAX_PAGES: u64 = 200;

/// A path with its query string, each name and value percent-encoded.
#[must_use]
pub fn with_query(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in query {
        encoded.append_pair(name, value);
    }
    format!("{path}?{}", encoded.finish())
}

/// Why a list could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// A page answered something other than success (the first page's 404 may mean "this
    /// release has no such endpoint": the caller decides).
    #[error("page {page} of {path} answered {}", response.status)]
    Status {
        path: String,
        page: u64,
        response: Response,
    },
    /// A page that is not a JSON:API collection (`data` is not a list).
    #[error("page {page} of {path} is not a JSON:API list")]
    NotAList { path: String, page: u64 },
    #[error(
        "{path} claims {claimed} pages of {PAGE_SIZE}; tfe-admin reads at most {MAX_PAGES} \
         (a server that is not TFE, or a list far larger than any installation's)"
    )]
    TooManyPages { path: String, claimed: u64 },
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// One page as read.
struct Page {
    items: Vec<Value>,
    next: Option<u64>,
    total_pages: Option<u64>,
}

/// Every resource object of the list at `path` (with `query` added to each page's query).
/// `expected_pages` is how many pages the caller already knows there are (from an earlier
/// read): that many are fetched at once, saving the round trip that asks.
///
/// # Errors
/// A page that fails, is not a list, or a page count beyond [`MAX_PAGES`].
pub async fn read_all<A: Api>(
    api: &A,
    path: &str,
    query: &[(String, String)],
    expected_pages: u64,
) -> Result<Vec<Value>, ListError> {
    let first_round = expected_pages.clamp(1, MAX_PAGES);
    let pages = join_all((1..=first_round).map(|n| page(api, path, query, n))).await;
    let mut items = Vec::new();
    let mut last: Option<Page> = None;
    let mut total = None;
    for page in pages {
        let page = page?;
        total = total.or(page.total_pages);
        items.extend(page.items.iter().cloned());
        last = Some(page);
    }
    let Some(last) = last else {
        return Ok(items);
    };
    if let Some(claimed) = total.filter(|t| *t > MAX_PAGES) {
        return Err(ListError::TooManyPages {
            path: path.to_owned(),
            claimed,
        });
    }
    let mut read = first_round;
    // The rest of the announced pages, all at once.
    if let Some(total) = total.filter(|t| *t > read) {
        let rest = join_all((read + 1..=total).map(|n| page(api, path, query, n))).await;
        let mut next = None;
        for page in rest {
            let page = page?;
            items.extend(page.items);
            next = page.next;
        }
        read = total;
        follow(api, path, query, next, read, &mut items).await?;
    } else {
        follow(api, path, query, last.next, read, &mut items).await?;
    }
    Ok(items)
}

/// Follows `next-page` one page at a time (a list that grew, or a server that does not say
/// how many pages there are), never backwards and never beyond [`MAX_PAGES`].
async fn follow<A: Api>(
    api: &A,
    path: &str,
    query: &[(String, String)],
    mut next: Option<u64>,
    mut read: u64,
    items: &mut Vec<Value>,
) -> Result<(), ListError> {
    while let Some(number) = next.filter(|n| *n > read) {
        if number > MAX_PAGES {
            return Err(ListError::TooManyPages {
                path: path.to_owned(),
                claimed: number,
            });
        }
        let page = page(api, path, query, number).await?;
        items.extend(page.items);
        next = page.next;
        read = number;
    }
    Ok(())
}

async fn page<A: Api>(
    api: &A,
    path: &str,
    query: &[(String, String)],
    number: u64,
) -> Result<Page, ListError> {
    let mut full = query.to_vec();
    full.push(("page[number]".to_owned(), number.to_string()));
    full.push(("page[size]".to_owned(), PAGE_SIZE.to_string()));
    let response = api
        .call(Method::Get, &with_query(path, &full), None)
        .await?;
    if !response.is_success() {
        return Err(ListError::Status {
            path: path.to_owned(),
            page: number,
            response,
        });
    }
    let Body::Json(body) = &response.body else {
        return Err(ListError::NotAList {
            path: path.to_owned(),
            page: number,
        });
    };
    let Some(items) = body.get("data").and_then(Value::as_array) else {
        return Err(ListError::NotAList {
            path: path.to_owned(),
            page: number,
        });
    };
    let pagination = body.pointer("/meta/pagination");
    let number_at = |name: &str| pagination.and_then(|p| p.get(name)).and_then(Value::as_u64);
    Ok(Page {
        items: items.clone(),
        next: number_at("next-page"),
        total_pages: number_at("total-pages"),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    /// A list of `count` items served `per_page` at a time, claiming `claimed_pages` pages.
    struct FakeList {
        count: u64,
        claimed_pages: Option<u64>,
        fail_page: Option<u64>,
        asked: Mutex<Vec<String>>,
        redactor: crate::redact::Redactor,
        endpoint: super::super::Endpoint,
    }

    impl FakeList {
        fn new(count: u64) -> Self {
            FakeList {
                count,
                claimed_pages: None,
                fail_page: None,
                asked: Mutex::new(Vec::new()),
                redactor: crate::redact::Redactor::default(),
                endpoint: super::super::Endpoint {
                    address: "http://127.0.0.1:9".to_owned(),
                    origin: super::super::AddressOrigin::Flag,
                },
            }
        }
    }

    impl Api for FakeList {
        fn redactor(&self) -> &crate::redact::Redactor {
            &self.redactor
        }

        fn endpoint(&self) -> &super::super::Endpoint {
            &self.endpoint
        }

        async fn call(
            &self,
            _: Method,
            path: &str,
            _: Option<&Value>,
        ) -> Result<Response, ApiError> {
            if let Ok(mut asked) = self.asked.lock() {
                asked.push(path.to_owned());
            }
            let query: HashMap<String, String> = path
                .split_once('?')
                .map(|(_, q)| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default();
            let number: u64 = query
                .get("page[number]")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let total = self.count.div_ceil(PAGE_SIZE).max(1);
            let status = if self.fail_page == Some(number) {
                500
            } else {
                200
            };
            let items: Vec<Value> = ((number - 1) * PAGE_SIZE
                ..(number * PAGE_SIZE).min(self.count))
                .map(|i| json!({"id": format!("item-{i}")}))
                .collect();
            let next = (number < total).then_some(number + 1);
            Ok(Response {
                status,
                body: Body::Json(json!({"data": items, "meta": {"pagination": {
                    "current-page": number, "next-page": next,
                    "total-pages": self.claimed_pages.unwrap_or(total), "total-count": self.count}}})),
                tfe_version: None,
                tfe_current_version: None,
            })
        }
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        match tokio::runtime::Builder::new_current_thread().build() {
            Ok(runtime) => runtime.block_on(future),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn every_page_is_read_and_brackets_are_encoded() {
        let list = FakeList::new(250);
        let query = [("filter[version]".to_owned(), "1.9.8".to_owned())];
        let Ok(items) = run(read_all(&list, "admin/terraform-versions", &query, 1)) else {
            panic!("the list was not read");
        };
        assert_eq!(items.len(), 250);
        let asked = list.asked.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(asked.len(), 3);
        assert_eq!(
            asked[0],
            "admin/terraform-versions?filter%5Bversion%5D=1.9.8&page%5Bnumber%5D=1&page%5Bsize%5D=100"
        );
    }

    #[test]
    fn known_pages_are_fetched_at_once_and_an_empty_list_is_one_page() {
        let list = FakeList::new(250);
        let Ok(items) = run(read_all(&list, "x", &[], 3)) else {
            panic!("the list was not read");
        };
        assert_eq!(items.len(), 250);
        assert_eq!(list.asked.lock().map(|a| a.len()).unwrap_or_default(), 3);
        let empty = FakeList::new(0);
        assert!(run(read_all(&empty, "x", &[], 1)).is_ok_and(|i| i.is_empty()));
    }

    #[test]
    fn a_million_pages_are_refused_and_a_failed_page_fails_the_list() {
        let mut list = FakeList::new(250);
        list.claimed_pages = Some(1_000_000);
        let result = run(read_all(&list, "x", &[], 1));
        assert!(
            matches!(
                result,
                Err(ListError::TooManyPages {
                    claimed: 1_000_000,
                    ..
                })
            ),
            "{result:?}"
        );
        assert_eq!(list.asked.lock().map(|a| a.len()).unwrap_or_default(), 1);
        let mut failing = FakeList::new(250);
        failing.fail_page = Some(2);
        let result = run(read_all(&failing, "x", &[], 1));
        assert!(
            matches!(result, Err(ListError::Status { page: 2, .. })),
            "{result:?}"
        );
    }
}
