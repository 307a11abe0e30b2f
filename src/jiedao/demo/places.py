"""Names of the demo street: communities, their estates, roads and buildings."""

DISTRICT = ("110105", "朝阳区")
STREET = ("110105018", "示范街道")

# (suffix, community name, estates, roads)
COMMUNITIES = [
    ("01", "东湖社区", ["东湖家园", "东湖小区", "湖光里"], ["东湖路", "光华东街"]),
    ("02", "西园社区", ["西园新村", "西园北里", "园景公寓"], ["西园路", "景明街"]),
    ("03", "南苑社区", ["南苑小区", "南苑西里", "和平里"], ["南苑路", "和平街"]),
    ("04", "北辰社区", ["北辰花园", "辰光家园", "北辰东里"], ["北辰路", "辰光街"]),
    ("05", "金台社区", ["金台里", "金台北街小区", "台基厂宿舍"], ["金台路", "金台北街"]),
    ("06", "团结湖社区", ["团结湖北里", "团结湖中路小区", "水碓子东里"], ["团结湖路", "水碓子东路"]),
    ("07", "朝阳门社区", ["朝阳门北小街小区", "吉祥里", "新鲜胡同院"], ["朝阳门外大街", "吉祥胡同"]),
    ("08", "幸福社区", ["幸福一村", "幸福二村", "幸福家园"], ["幸福大街", "安乐路"]),
]

GRID_NAMES = ["第一网格", "第二网格", "第三网格", "第四网格", "第五网格"]

# The street is a block of about 3.4 km × 2.2 km: four columns and two rows of
# communities, each split into five grids of unequal width.
COLUMN_EDGES = [116.4300, 116.4410, 116.4500, 116.4615, 116.4700]
ROW_EDGES = [39.9100, 39.9195, 39.9300]
GRID_SHARES = [0.17, 0.23, 0.19, 0.21, 0.20]

PUBLIC_PLACES = [
    "公交站",
    "菜市场门口",
    "社区广场",
    "小学门口",
    "地铁站C口",
    "街心公园",
    "便利店旁",
    "停车场入口",
    "社区卫生服务站",
    "快递驿站",
    "垃圾分类驿站",
    "健身器材区",
    "老年活动中心",
]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华霞平刚桂兰玉萍红梅建国志文海燕波辉宁宇鹏浩凯俊晨欣怡子涵雨桐佳琪思远"
)


def community_geometry():
    """[(community index, [(west, south, east, north) per grid])] for the 8 communities."""
    blocks = []
    index = 0
    for row in range(2):
        south, north = ROW_EDGES[row], ROW_EDGES[row + 1]
        for col in range(4):
            west, east = COLUMN_EDGES[col], COLUMN_EDGES[col + 1]
            width = east - west
            rects = []
            left = west
            for share_index, share in enumerate(GRID_SHARES):
                right = east if share_index == len(GRID_SHARES) - 1 else round(left + width * share, 6)
                rects.append((round(left, 6), south, right, north))
                left = right
            blocks.append((index, rects))
            index += 1
    return blocks


def polygon(west, south, east, north):
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [west, south],
                [east, south],
                [east, north],
                [west, north],
                [west, south],
            ]
        ],
    }


# The demo street's base map (底图, drawn under the grids when no tile server is set): each
# community's two roads (COMMUNITIES) run through it, the first east–west and the second
# north–south, at these shares of its extent (from the south and from the west); the
# residents' committee sits at COMMITTEE_AT. The street's two main roads follow the community
# borders nearest its middle, and the street office and the service hall stand just north-east
# of their crossing (offsets in degrees of longitude and latitude).
ROAD_SHARES = (0.30, 0.285)
COMMITTEE_AT = (0.60, 0.70)
MAIN_ROADS = ("朝阳北路", "东大桥路")  # east–west, north–south
OFFICES = [("office", "{street}办事处", (0.0006, 0.0007)), ("hall", "{street}便民服务中心", (0.0006, 0.0017))]


def _inner_edge(edges, low, high):
    """The community border (of ``edges``) strictly inside ``low``–``high`` nearest its middle."""
    middle = (low + high) / 2
    inside = sorted({round(e, 6) for e in edges if low < e < high}, key=lambda e: (abs(e - middle), e))
    return inside[0] if inside else None


def base_map_geojson(street_code, street_name, extents):
    """The demo base map as a file of ``jiedao geo import --level basemap``. ``extents``:
    ``[(community name, (west, south, east, north))]``; the roads of the communities named in
    COMMUNITIES are laid out over their extents, so the same layout fits any street whose
    communities bear those names (the tests' small street too)."""
    roads = {name: community_roads for _suffix, name, _estates, community_roads in COMMUNITIES}
    features = []

    def add(kind, name, geometry):
        features.append(
            {"type": "Feature", "properties": {"kind": kind, "name": name, "street": street_code}, "geometry": geometry}
        )

    def line(*points):
        return {"type": "LineString", "coordinates": [[round(x, 6), round(y, 6)] for x, y in points]}

    for name, (west, south, east, north) in extents:
        if name not in roads:
            continue
        across, along = roads[name]
        y = south + (north - south) * ROAD_SHARES[0]
        x = west + (east - west) * ROAD_SHARES[1]
        add("road", across, line((west, y), (east, y)))
        add("road", along, line((x, south), (x, north)))
        committee = (west + (east - west) * COMMITTEE_AT[0], south + (north - south) * COMMITTEE_AT[1])
        add("committee", f"{name}居委会", {"type": "Point", "coordinates": [round(v, 6) for v in committee]})
    if not extents:
        return {"type": "FeatureCollection", "features": features}
    west = min(e[1][0] for e in extents)
    south = min(e[1][1] for e in extents)
    east = max(e[1][2] for e in extents)
    north = max(e[1][3] for e in extents)
    lat = _inner_edge([e[1][1] for e in extents] + [e[1][3] for e in extents], south, north)
    lng = _inner_edge([e[1][0] for e in extents] + [e[1][2] for e in extents], west, east)
    if lat is not None:
        add("main_road", MAIN_ROADS[0], line((west, lat), (east, lat)))
    if lng is not None:
        add("main_road", MAIN_ROADS[1], line((lng, south), (lng, north)))
    cross = (lng if lng is not None else (west + east) / 2, lat if lat is not None else (south + north) / 2)
    for kind, name, (dx, dy) in OFFICES:
        spot = [round(cross[0] + dx, 6), round(cross[1] + dy, 6)]
        add(kind, name.format(street=street_name), {"type": "Point", "coordinates": spot})
    return {"type": "FeatureCollection", "features": features}
