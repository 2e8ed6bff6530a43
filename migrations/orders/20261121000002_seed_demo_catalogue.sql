-- A demo catalogue: 14 products in 5 categories. Images are served by
-- order-svc with the UI (ui/dist/images).
INSERT INTO products (id, sku, name, description, price, currency, stock, category, image_url) VALUES
    ('0193b000-0000-7000-8000-000000000001', 'MUG-CLASSIC',   'Classic Mug',          'A 350 ml stoneware mug that keeps its glaze in the dishwasher.', 12.50, 'EUR', 120, 'Kitchen',     '/images/mug.svg'),
    ('0193b000-0000-7000-8000-000000000002', 'KETTLE-STEEL',  'Steel Kettle',         'A 1.7 l stainless kettle with a whistle.',                        39.90, 'EUR',  40, 'Kitchen',     '/images/kettle.svg'),
    ('0193b000-0000-7000-8000-000000000003', 'PAN-CAST-26',   'Cast Iron Pan 26 cm',  'Pre-seasoned, oven safe, lasts a lifetime.',                      54.00, 'EUR',  25, 'Kitchen',     '/images/pan.svg'),
    ('0193b000-0000-7000-8000-000000000004', 'TEE-ORGANIC-M', 'Organic Tee (M)',      'Organic cotton T-shirt, medium.',                                 19.00, 'EUR', 200, 'Apparel',     '/images/tee.svg'),
    ('0193b000-0000-7000-8000-000000000005', 'HOODIE-GREY-L', 'Grey Hoodie (L)',      'Brushed fleece hoodie, large.',                                   49.00, 'EUR',  60, 'Apparel',     '/images/hoodie.svg'),
    ('0193b000-0000-7000-8000-000000000006', 'SOCKS-WOOL-3',  'Wool Socks, 3 pairs',  'Merino blend, one size.',                                         15.00, 'EUR', 150, 'Apparel',     '/images/socks.svg'),
    ('0193b000-0000-7000-8000-000000000007', 'BOOK-RUST',     'The Rust Book',        'The programming language, in print.',                             39.00, 'EUR',  80, 'Books',       '/images/book.svg'),
    ('0193b000-0000-7000-8000-000000000008', 'BOOK-SAGAS',    'Sagas in Practice',    'Distributed transactions without two-phase commit.',              29.00, 'EUR',  35, 'Books',       '/images/book-sagas.svg'),
    ('0193b000-0000-7000-8000-000000000009', 'NOTEBOOK-A5',   'Dotted Notebook A5',   '160 pages, lay-flat binding.',                                     9.50, 'EUR', 300, 'Books',       '/images/notebook.svg'),
    ('0193b000-0000-7000-8000-000000000010', 'KBD-MECH-TKL',  'Mechanical Keyboard',  'Tenkeyless, hot-swappable switches.',                             89.00, 'EUR',  30, 'Electronics', '/images/keyboard.svg'),
    ('0193b000-0000-7000-8000-000000000011', 'MOUSE-WL',      'Wireless Mouse',       'Silent clicks, two-year battery.',                                24.90, 'EUR',  90, 'Electronics', '/images/mouse.svg'),
    ('0193b000-0000-7000-8000-000000000012', 'HEADPHONES-NC', 'Noise-cancelling Headphones', 'Over-ear, 30 hours of battery.',                          149.00, 'EUR',  20, 'Electronics', '/images/headphones.svg'),
    ('0193b000-0000-7000-8000-000000000013', 'PLANT-POT-M',   'Terracotta Pot (M)',   'Hand-thrown, with drainage hole.',                                14.00, 'EUR',  70, 'Garden',      '/images/pot.svg'),
    ('0193b000-0000-7000-8000-000000000014', 'WATERING-CAN',  'Watering Can 5 l',     'Galvanised steel with a brass rose.',                             32.00, 'EUR',  15, 'Garden',      '/images/watering-can.svg')
ON CONFLICT DO NOTHING;
