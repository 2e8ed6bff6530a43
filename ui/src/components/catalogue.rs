//! Products: search, category filter, paging, with loading and error states.

use leptos::prelude::*;

use crate::{
    api::{self, Product},
    store::Store,
};

const PER_PAGE: u32 = 8;

/// The product list and its filters.
#[component]
pub fn Catalogue() -> impl IntoView {
    let store = expect_context::<Store>();
    let query = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let page = RwSignal::new(1_u32);
    let products = LocalResource::new(move || {
        let (q, c, p) = (query.get(), category.get(), page.get());
        let _reload = store.catalogue_version.get();
        async move { api::products(&q, &c, p, PER_PAGE).await }
    });
    let categories = LocalResource::new(api::categories);

    view! {
        <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
            <label>
                "Search"
                <input
                    type="search"
                    placeholder="Name or SKU"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        page.set(1);
                    }
                />
            </label>
            <label>
                "Category"
                <select on:change=move |ev| {
                    category.set(event_target_value(&ev));
                    page.set(1);
                }>
                    <option value="">"All categories"</option>
                    {move || {
                        categories
                            .get()
                            .and_then(Result::ok)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|c| view! { <option value=c.clone()>{c.clone()}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
        </form>
        <Transition fallback=|| view! { <p class="status" role="status">"Loading products…"</p> }>
            {move || {
                products
                    .get()
                    .map(|result| match result {
                        Err(error) => {
                            view! {
                                <p class="error" role="alert">
                                    "We could not load the products: " {error.to_string()}
                                    " "
                                    <button type="button" on:click=move |_| products.refetch()>
                                        "Try again"
                                    </button>
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) if list.items.is_empty() => {
                            view! { <p class="status">"No products match."</p> }.into_any()
                        }
                        Ok(list) => {
                            let pages = list.total.div_ceil(u64::from(list.per_page)).max(1) as u32;
                            view! {
                                <ul class="grid">
                                    {list
                                        .items
                                        .into_iter()
                                        .map(|product| view! { <ProductCard product/> })
                                        .collect_view()}
                                </ul>
                                <nav class="pager" aria-label="Pages">
                                    <button
                                        type="button"
                                        disabled=move || page.get() <= 1
                                        on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
                                    >
                                        "Previous"
                                    </button>
                                    <span>{format!("Page {} of {pages}", list.page)}</span>
                                    <button
                                        type="button"
                                        disabled=move || page.get() >= pages
                                        on:click=move |_| page.update(|p| *p += 1)
                                    >
                                        "Next"
                                    </button>
                                </nav>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

/// One product, with its add-to-cart button.
#[component]
fn ProductCard(product: Product) -> impl IntoView {
    let store = expect_context::<Store>();
    let sold_out = product.stock <= 0;
    let image = product.image_url.clone().unwrap_or_default();
    let label = format!("Add {} to the cart", product.name);
    let stock = if sold_out {
        "Sold out".to_owned()
    } else {
        format!("{} in stock", product.stock)
    };
    let price = format!("{} {}", product.price, product.currency);
    let (name, description, category) = (
        product.name.clone(),
        product.description.clone(),
        product.category.clone(),
    );
    view! {
        <li class="card" data-testid="product-card">
            <img src=image alt="" width="160" height="120" loading="lazy"/>
            <div class="card-body">
                <h3 class="name">{name}</h3>
                <p class="muted">{category}</p>
                <p class="description">{description}</p>
                <p class="price">{price}</p>
                <p class="muted">{stock}</p>
                <button
                    type="button"
                    data-testid="add-to-cart"
                    aria-label=label
                    disabled=sold_out
                    on:click=move |_| store.cart.update(|cart| cart.add(&product))
                >
                    "Add to cart"
                </button>
            </div>
        </li>
    }
}
