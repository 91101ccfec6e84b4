"""Static catalogue data served by the simulator: Droplet sizes, regions,
App Platform instance sizes and regions.

Slugs and prices are DigitalOcean's public list prices (Droplets since the
July 2022 price change; App Platform as in the OpenAPI spec's
``instance_sizes`` example). ``price_hourly`` is ``price_monthly / 672``
rounded to 5 decimals, which is how DigitalOcean derives it (672 hours = 4
weeks, the monthly cap).
"""

# Droplet regions: slug -> display name. Every slug is in the spec's
# region_slug enum so it is also valid inside image.regions.
REGIONS = [
    ("nyc1", "New York 1"),
    ("nyc3", "New York 3"),
    ("sfo3", "San Francisco 3"),
    ("ams3", "Amsterdam 3"),
    ("sgp1", "Singapore 1"),
    ("lon1", "London 1"),
    ("fra1", "Frankfurt 1"),
    ("tor1", "Toronto 1"),
    ("blr1", "Bangalore 1"),
    ("syd1", "Sydney 1"),
]
REGION_NAMES = dict(REGIONS)
REGION_SLUGS = [slug for slug, _ in REGIONS]
REGION_FEATURES = ["backups", "ipv6", "metadata", "install_agent", "storage",
                   "image_transfer"]

# (slug, memory MiB, vcpus, disk GiB, transfer TiB, price_monthly USD, description)
# 37 sizes, so the default per_page of 20 gives exactly two pages.
_SIZE_ROWS = [
    ("s-1vcpu-512mb-10gb", 512, 1, 10, 0.5, 4, "Basic"),
    ("s-1vcpu-1gb", 1024, 1, 25, 1, 6, "Basic"),
    ("s-1vcpu-1gb-amd", 1024, 1, 25, 1, 7, "Basic AMD"),
    ("s-1vcpu-1gb-intel", 1024, 1, 25, 1, 7, "Basic Intel"),
    ("s-1vcpu-2gb", 2048, 1, 50, 2, 12, "Basic"),
    ("s-1vcpu-2gb-amd", 2048, 1, 50, 2, 14, "Basic AMD"),
    ("s-1vcpu-2gb-intel", 2048, 1, 50, 2, 14, "Basic Intel"),
    ("s-2vcpu-2gb", 2048, 2, 60, 3, 18, "Basic"),
    ("s-2vcpu-2gb-amd", 2048, 2, 60, 3, 21, "Basic AMD"),
    ("s-2vcpu-2gb-intel", 2048, 2, 60, 3, 21, "Basic Intel"),
    ("s-2vcpu-4gb", 4096, 2, 80, 4, 24, "Basic"),
    ("s-2vcpu-4gb-amd", 4096, 2, 80, 4, 28, "Basic AMD"),
    ("s-2vcpu-4gb-intel", 4096, 2, 80, 4, 28, "Basic Intel"),
    ("c-2", 4096, 2, 25, 4, 42, "CPU-Optimized"),
    ("s-2vcpu-8gb-amd", 8192, 2, 100, 5, 42, "Basic AMD"),
    ("c2-2vcpu-4gb", 4096, 2, 50, 4, 47, "CPU-Optimized 2x SSD"),
    ("s-4vcpu-8gb", 8192, 4, 160, 5, 48, "Basic"),
    ("s-2vcpu-8gb-160gb-intel", 8192, 2, 160, 5, 48, "Basic Intel"),
    ("s-4vcpu-8gb-amd", 8192, 4, 160, 5, 56, "Basic AMD"),
    ("s-4vcpu-8gb-intel", 8192, 4, 160, 5, 56, "Basic Intel"),
    ("g-2vcpu-8gb", 8192, 2, 25, 4, 63, "General Purpose"),
    ("s-4vcpu-8gb-240gb-intel", 8192, 4, 240, 6, 64, "Basic Intel"),
    ("gd-2vcpu-8gb", 8192, 2, 50, 4, 68, "General Purpose 2x SSD"),
    ("m-2vcpu-16gb", 16384, 2, 50, 4, 84, "Memory-Optimized"),
    ("c-4", 8192, 4, 50, 5, 84, "CPU-Optimized"),
    ("s-4vcpu-16gb-amd", 16384, 4, 200, 8, 84, "Basic AMD"),
    ("s-8vcpu-16gb", 16384, 8, 320, 6, 96, "Basic"),
    ("s-4vcpu-16gb-320gb-intel", 16384, 4, 320, 8, 96, "Basic Intel"),
    ("m3-2vcpu-16gb", 16384, 2, 150, 4, 104, "Memory-Optimized 3x SSD"),
    ("s-8vcpu-16gb-amd", 16384, 8, 320, 6, 112, "Basic AMD"),
    ("s-8vcpu-16gb-intel", 16384, 8, 320, 6, 112, "Basic Intel"),
    ("g-4vcpu-16gb", 16384, 4, 50, 5, 126, "General Purpose"),
    ("so-2vcpu-16gb", 16384, 2, 300, 4, 131, "Storage-Optimized"),
    ("s-8vcpu-32gb-amd", 32768, 8, 400, 10, 168, "Basic AMD"),
    ("c-8", 16384, 8, 100, 6, 168, "CPU-Optimized"),
    ("m-4vcpu-32gb", 32768, 4, 100, 6, 168, "Memory-Optimized"),
    ("s-8vcpu-32gb-640gb-intel", 32768, 8, 640, 10, 192, "Basic Intel"),
]


def hourly_price(monthly):
    """DigitalOcean's hourly price for a monthly price (672 billable hours)."""
    return round(monthly / 672.0, 5)


def _size(row):
    slug, memory, vcpus, disk, transfer, monthly, description = row
    return {
        "slug": slug,
        "memory": memory,
        "vcpus": vcpus,
        "disk": disk,
        "transfer": float(transfer),
        "price_monthly": float(monthly),
        "price_hourly": hourly_price(monthly),
        "regions": list(REGION_SLUGS),
        "available": True,
        "description": description,
        "disk_info": [{"type": "local", "size": {"amount": disk, "unit": "gib"}}],
    }


SIZES = [_size(row) for row in _SIZE_ROWS]
SIZES_BY_SLUG = {size["slug"]: size for size in SIZES}


def region_object(slug):
    """The spec's `region` object for a Droplet region slug."""
    return {
        "name": REGION_NAMES.get(slug, slug),
        "slug": slug,
        "features": list(REGION_FEATURES),
        "available": True,
        "sizes": [size["slug"] for size in SIZES],
    }


DEFAULT_IMAGE = {
    "id": 129211873,
    "name": "22.04 (LTS) x64",
    "type": "base",
    "distribution": "Ubuntu",
    "slug": "ubuntu-22-04-x64",
    "public": True,
    "regions": list(REGION_SLUGS),
    "created_at": "2023-03-29T14:23:06Z",
    "min_disk_size": 7,
    "size_gigabytes": 2.34,
    "description": "Ubuntu 22.04 (LTS) x64",
    "tags": [],
    "status": "available",
    "error_message": "",
}

# App Platform instance sizes, as in the spec's `instance_sizes` example.
# Every number is a JSON string, as the spec types them (int64 as string).
_APP_SIZE_ROWS = [
    # slug, name, cpu_type, cpus, memory bytes, usd/month, usd/second, tier,
    # bandwidth GiB, single_instance_only, scalable
    ("apps-s-1vcpu-0.5gb", "Shared 1VCPU 0.5GB", "SHARED", 1, 536870912, "5.00",
     "0.000002066799", "basic", 50, True, False),
    ("apps-s-1vcpu-1gb-fixed", "Shared 1VCPU 1GB Fixed", "SHARED", 1, 1073741824,
     "10.00", "0.000004133598", "basic", 100, True, False),
    ("apps-s-1vcpu-1gb", "Shared 1VCPU 1GB", "SHARED", 1, 1073741824, "12.00",
     "0.000004960317", "professional", 150, False, False),
    ("apps-s-1vcpu-2gb", "Shared 1VCPU 2GB", "SHARED", 1, 2147483648, "25.00",
     "0.000010333995", "professional", 200, False, False),
    ("apps-s-2vcpu-4gb", "Shared 2VCPU 4GB", "SHARED", 2, 4294967296, "50.00",
     "0.000020667989", "professional", 250, False, False),
    ("apps-d-1vcpu-0.5gb", "Dedicated 1VCPU 0.5GB", "DEDICATED", 1, 536870912,
     "29.00", "0.000011987434", "professional", 100, False, True),
    ("apps-d-1vcpu-1gb", "Dedicated 1VCPU 1GB", "DEDICATED", 1, 1073741824, "34.00",
     "0.000014054233", "professional", 200, False, True),
    ("apps-d-1vcpu-2gb", "Dedicated 1VCPU 2GB", "DEDICATED", 1, 2147483648, "39.00",
     "0.000016121032", "professional", 300, False, True),
    ("apps-d-1vcpu-4gb", "Dedicated 1VCPU 4GB", "DEDICATED", 1, 4294967296, "49.00",
     "0.000020254630", "professional", 400, False, True),
    ("apps-d-2vcpu-4gb", "Dedicated 2VCPU 4GB", "DEDICATED", 2, 4294967296, "78.00",
     "0.000032242063", "professional", 500, False, True),
    ("apps-d-2vcpu-8gb", "Dedicated 2VCPU 8GB", "DEDICATED", 2, 8589934592, "98.00",
     "0.000040509259", "professional", 600, False, True),
    ("apps-d-4vcpu-8gb", "Dedicated 4VCPU 8GB", "DEDICATED", 4, 8589934592,
     "156.00", "0.000064484127", "professional", 700, False, True),
    ("apps-d-4vcpu-16gb", "Dedicated 4VCPU 16GB", "DEDICATED", 4, 17179869184,
     "196.00", "0.000081018519", "professional", 800, False, True),
    ("apps-d-8vcpu-32gb", "Dedicated 8VCPU 32GB", "DEDICATED", 8, 34359738368,
     "392.00", "0.000162037037", "professional", 900, False, True),
]


def _app_size(row):
    (slug, name, cpu_type, cpus, memory, per_month, per_second, tier, bandwidth,
     single, scalable) = row
    return {
        "name": name,
        "slug": slug,
        "cpu_type": cpu_type,
        "cpus": str(cpus),
        "memory_bytes": str(memory),
        "usd_per_month": per_month,
        "usd_per_second": per_second,
        "tier_slug": tier,
        "single_instance_only": single,
        "scalable": scalable,
        "bandwidth_allowance_gib": str(bandwidth),
        "deprecation_intent": False,
    }


APP_INSTANCE_SIZES = [_app_size(row) for row in _APP_SIZE_ROWS]
APP_INSTANCE_SIZES_BY_SLUG = {s["slug"]: s for s in APP_INSTANCE_SIZES}

# Legacy slugs the spec still accepts in instance_size_slug (deprecated).
APP_LEGACY_SIZE_SLUGS = [
    "basic-xxs", "basic-xs", "basic-s", "basic-m", "professional-xs",
    "professional-s", "professional-m", "professional-1l", "professional-l",
    "professional-xl",
]

# App Platform regions: slug -> (label, flag, continent, data centers).
APP_REGIONS = {
    "atl": ("Atlanta", "usa", "North America", ["atl1"]),
    "nyc": ("New York", "usa", "North America", ["nyc1", "nyc3"]),
    "sfo": ("San Francisco", "usa", "North America", ["sfo3"]),
    "tor": ("Toronto", "canada", "North America", ["tor1"]),
    "ams": ("Amsterdam", "netherlands", "Europe", ["ams3"]),
    "fra": ("Frankfurt", "germany", "Europe", ["fra1"]),
    "lon": ("London", "uk", "Europe", ["lon1"]),
    "blr": ("Bangalore", "india", "Asia", ["blr1"]),
    "sgp": ("Singapore", "singapore", "Asia", ["sgp1"]),
    "syd": ("Sydney", "australia", "Australia", ["syd1"]),
}


def app_region_object(slug):
    """The spec's `apps_region` object for an App Platform region slug."""
    label, flag, continent, centers = APP_REGIONS.get(
        slug, (slug, "", "", []))
    return {
        "slug": slug,
        "label": label,
        "flag": flag,
        "continent": continent,
        "data_centers": list(centers),
        "default": slug == "nyc",
        "disabled": False,
    }
