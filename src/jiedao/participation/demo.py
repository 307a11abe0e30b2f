"""多元共治 on the demo street: a year of it in every community, seeded so that every run
is the same. Residents join their community; each month they propose topics and support
each other's; every other month the committee holds a deliberation meeting with registration, check-in,
decisions and minutes; adopted items are followed to completion (most on time) and rated;
the council is part self-nominated; needs, resources, projects and this year's budget
vote; volunteer activities with verified hours, points earned and rewards exchanged.

``build_participation(street, communities, users, now, out=None)``: ``users`` is the demo
builder's dict by username. Everything goes through the services, so events, ledger and
notifications are what real use would leave."""

import datetime as dt
import random
import time

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from jiedao.org.models import Unit, User

from . import services
from .models import Account, Posting, Proposal

SEED = 20261123
RESIDENTS_PER_COMMUNITY = 18
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["秀英", "桂兰", "建国", "志强", "丽华", "国庆", "淑珍", "海燕", "德明", "玉梅", "文杰", "晓东"]
TOPICS = [
    ("小区东门加装休息座椅", "老人买菜回来没地方歇脚，希望在东门附近加几张座椅。", "东门"),
    ("楼道堆物清理", "楼道里堆放杂物，影响通行，也有消防隐患。", "3号楼"),
    ("增设电动自行车充电桩", "居民在楼道里给电动车充电很危险，希望集中建充电棚。", "北侧空地"),
    ("规范广场舞时间和音量", "晚上九点后还有音乐，影响休息。", "中心广场"),
    ("加装单元门禁", "外来人员随意进出，希望加装门禁。", "5号楼"),
    ("修缮儿童游乐设施", "滑梯有破损，孩子玩耍不安全。", "儿童乐园"),
    ("垃圾分类驿站选址", "现在的垃圾桶点位离住户太近，夏天有异味。", "西门"),
    ("老旧小区加装电梯", "高层老人上下楼困难，希望推进加装电梯。", "7号楼"),
    ("路灯维修和补光", "小路晚上太黑，老人走路容易摔倒。", "南侧小路"),
    ("停车位重新规划", "晚上停车难，消防通道被占。", "地面停车场"),
    ("设立社区共享工具箱", "邻里之间可以借用梯子、电钻等工具。", "居委会"),
    ("宠物粪便清理提示牌", "草坪上经常有宠物粪便。", "中心绿地"),
]
ANSWERS = {
    "adopt": "经议事会协商，同意实施，由居委会牵头落实，进展将在此公开。",
    "reject": "经议事会协商，因场地和资金条件暂不具备，暂不实施，已向提出人说明。",
    "study": "涉及多方权属，需会同物业和相关部门进一步研究，下次议事会再议。",
}
NEEDS = [
    ("老年助餐", 60),
    ("儿童课后托管", 35),
    ("楼道照明改造", 20),
    ("心理疏导服务", 8),
    ("家电维修便民服务", 25),
    ("健身器材更新", 15),
]
RESOURCES = [
    ("社区活动室", "居委会"),
    ("爱心餐厅", "驻区餐饮企业"),
    ("志愿者服务队", "社区志愿者"),
    ("物业维修班组", "物业公司"),
]
PROJECTS = [
    ("长者食堂", 60000, [0], [1]),
    ("四点半课堂", 30000, [1], [0, 2]),
    ("楼道灯改造", 20000, [2], [3]),
    ("便民维修日", 8000, [4], [2, 3]),
]
ACTIVITIES = ["楼道清扫", "敬老院探访", "垃圾分类宣传", "文明养犬劝导", "助老理发", "社区义诊协助"]
REWARDS = [("洗衣液", 60, 40), ("大米（5公斤）", 120, 30), ("理发券", 40, 50), ("家政服务1小时", 150, 10)]


def _say(out, message):
    if out is not None:
        out.write(message + "\n")


def _residents(street, community, index, rng, hashed, group):
    people = []
    for n in range(RESIDENTS_PER_COMMUNITY):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        people.append(User(username=f"jm{index + 1:02d}{n + 1:03d}", password=hashed, display_name=name, street=street))
    User.objects.bulk_create(people)
    people = list(User.objects.filter(username__in=[u.username for u in people]).order_by("username"))
    User.groups.through.objects.bulk_create([User.groups.through(user_id=u.pk, group_id=group.pk) for u in people])
    for user in people:
        user.__dict__.pop("role_codes", None)
        services.join_community(user, user=user, community=community, party_member=rng.random() < 0.2)
    return people


def _staff(community, users):
    unit = Unit.objects.filter(kind=Unit.Kind.COMMUNITY, community=community).first()
    staff = User.objects.filter(unit=unit, groups__name="handler").first() if unit else None
    return staff or users["leader"]


def _at(month_start, day, hour=10):
    return month_start + dt.timedelta(days=day, hours=hour)


@transaction.atomic
def build_participation(street, communities, users, now, out=None):
    """Fills 多元共治 for the demo street as of ``now``. Does nothing if proposals exist."""
    if Proposal.objects.exists():
        return {"skipped": True}
    began = time.monotonic()
    rng = random.Random(SEED)
    services.ensure_point_rules()
    group, _ = Group.objects.get_or_create(name="resident")
    hashed = users["resident"].password
    now = timezone.localtime(now)
    first_month = (now - dt.timedelta(days=365)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    counts = {
        "residents": 0,
        "proposals": 0,
        "meetings": 0,
        "decisions": 0,
        "ballots": 0,
        "activities": 0,
        "postings": 0,
    }
    resident_user = users.get("resident")
    for index, community in enumerate(communities):
        staff = _staff(community, users)
        people = _residents(street, community, index, rng, hashed, group)
        if index == 0 and resident_user is not None:
            services.join_community(resident_user, user=resident_user, community=community)
            people.append(resident_user)
        counts["residents"] += len(people)
        _council(community, staff, people, rng, now)
        counts.update(
            {k: counts[k] + v for k, v in _deliberation(community, staff, people, rng, first_month, now).items()}
        )
        counts["ballots"] += _projects(community, staff, people, rng, now)
        counts["activities"] += _volunteering(community, staff, people, rng, first_month, now)
        _say(out, f"  {community.name}：{len(people)} 位居民参与议事、投票和志愿服务。")
    counts["postings"] = Posting.objects.count()
    counts["seconds"] = round(time.monotonic() - began, 1)
    _say(
        out,
        f"已生成多元共治：{counts['proposals']} 个议题、{counts['meetings']} 次议事会、{counts['decisions']} 项决定、"
        f"{counts['ballots']} 张项目选票、{counts['activities']} 场志愿活动、{counts['postings']} 笔积分记录"
        f"（用时 {counts['seconds']} 秒）。",
    )
    return counts


def _council(community, staff, people, rng, now):
    start = (now - dt.timedelta(days=400)).date()
    share = rng.uniform(0.3, 0.6)
    for n, user in enumerate(people[:9]):
        origin = "self" if n < round(9 * share) else "appointed"
        services.add_council_member(
            staff, community=community, name=str(user), origin=origin, start=start, member_user=user
        )


def _deliberation(community, staff, people, rng, first_month, now):
    counts = {"proposals": 0, "meetings": 0, "decisions": 0}
    month = first_month
    months = 0
    pending_actions = []
    while month < now - dt.timedelta(days=20):
        months += 1
        # Residents propose; neighbours support over the following days.
        for _ in range(rng.randint(1, 2)):
            title, body, place = rng.choice(TOPICS)
            proposer = rng.choice(people)
            at = _at(month, rng.randint(0, 9))
            proposal = services.propose(proposer, title=title, body=body, place=place, at=at)
            counts["proposals"] += 1
            supporters = [p for p in rng.sample(people, rng.randint(2, 8)) if p != proposer]
            for n, supporter in enumerate(supporters):
                services.support(supporter, proposal_id=proposal.pk, at=at + dt.timedelta(hours=6 + 5 * n))
        if months % 3 == 0:
            services.table_topic(
                staff,
                community=community,
                title="社区年度公共收益使用方案",
                body="征求居民对公共收益使用的意见。",
                at=_at(month, 10),
            )
            counts["proposals"] += 1
        if months % 2:
            month = (month + dt.timedelta(days=32)).replace(day=1)
            continue
        # Every other month a meeting: agenda, registration, check-in, decisions, minutes.
        starts = _at(month, 20, 19)
        meeting = services.schedule_meeting(
            staff,
            community=community,
            title=f"{timezone.localtime(starts):%Y年%m月}协商议事会",
            starts_at=starts,
            place="社区活动室",
            seats=30,
            at=_at(month, 12),
        )
        counts["meetings"] += 1
        # Ties in support broken by age, so that every run puts the same proposals on the agenda.
        qualified = list(
            Proposal.objects.filter(community=community, status__in=("qualified", "study")).order_by(
                "-support_count", "created_at", "pk"
            )[:5]
        )
        for proposal in qualified:
            services.add_to_agenda(staff, meeting_id=meeting.pk, proposal_id=proposal.pk, at=_at(month, 13))
        attendees = rng.sample(people, rng.randint(5, 10))
        registrations = [services.register(p, meeting_id=meeting.pk, at=_at(month, 14)) for p in attendees]
        services.add_participant(
            staff, meeting_id=meeting.pk, name="物业项目经理", sector="property", organisation="安居物业"
        )
        for registration in registrations:
            if rng.random() < 0.85:
                services.check_in(staff, registration_id=registration.pk, at=starts)
        services.meeting_step(staff, meeting_id=meeting.pk, action="start", at=starts)
        progress = months / 12  # adoption grows over the year, as the council matures
        for proposal in qualified:
            roll = rng.random()
            decision = "adopt" if roll < 0.4 + 0.3 * progress else ("reject" if roll < 0.85 else "study")
            due = (starts + dt.timedelta(days=rng.choice([30, 45, 60]))).date()
            services.decide(
                staff,
                proposal_id=proposal.pk,
                decision=decision,
                answer=ANSWERS[decision],
                owner_name="居委会主任",
                due=due,
                at=starts + dt.timedelta(hours=1),
                milestones=[("方案确定", (starts + dt.timedelta(days=10)).date())],
            )
            counts["decisions"] += 1
            if decision == "adopt":
                pending_actions.append((Proposal.objects.get(pk=proposal.pk), due))
        services.meeting_step(
            staff,
            meeting_id=meeting.pk,
            action="close",
            note=f"本次议事会审议议题 {len(qualified)} 项，形成决定并公开。",
            at=starts + dt.timedelta(hours=2),
        )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    # Adopted actions: reported along the way; most completed on time, some late, recent ones ongoing.
    for proposal, due in pending_actions:
        action = proposal.action
        begun = proposal.decided_at
        services.report_progress(
            staff, action_id=action.pk, progress=40, note="已启动实施", at=begun + dt.timedelta(days=7)
        )
        finish_by = timezone.make_aware(dt.datetime.combine(due, dt.time(16)))
        finished = (
            finish_by - dt.timedelta(days=rng.randint(1, 12))
            if rng.random() < 0.8
            else finish_by + dt.timedelta(days=rng.randint(3, 20))
        )
        if finished < now:
            services.report_progress(
                staff, action_id=action.pk, progress=100, evidence="已实施完毕，现场照片已存档。", at=finished
            )
            voters = [p for p in people if rng.random() < 0.25]
            for voter in voters:
                services.rate_result(
                    voter,
                    proposal_id=proposal.pk,
                    score=rng.choice([5, 5, 4, 4, 3]),
                    at=finished + dt.timedelta(days=2),
                )
    return counts


def _projects(community, staff, people, rng, now):
    needs = [
        services.add_need(
            staff, community=community, title=t, demand=max(1, d + rng.randint(-5, 5)), at=now - dt.timedelta(days=120)
        )
        for t, d in NEEDS
    ]
    resources = [services.add_resource(staff, community=community, name=n, provider=p) for n, p in RESOURCES]
    projects = [
        services.create_project(
            staff,
            community=community,
            title=t,
            cost=c,
            need_ids=[needs[i].pk for i in n],
            resource_ids=[resources[i].pk for i in r],
            at=now - dt.timedelta(days=100),
        )
        for t, c, n, r in PROJECTS
    ]
    survey = services.create_survey(
        staff,
        community=community,
        title=f"{now.year}年民生需求调查",
        anonymous=True,
        questions=[("您最需要的服务", [t for t, _d in NEEDS]), ("其他建议", [])],
    )
    question = survey.questions.first()
    for person in people:
        if rng.random() < 0.5:
            services.answer_survey(
                person,
                survey_id=survey.pk,
                answers={str(question.pk): rng.choice(NEEDS)[0]},
                at=now - dt.timedelta(days=110),
            )
    services.close_survey(staff, survey_id=survey.pk)
    round_ = services.open_vote(
        staff,
        community=community,
        year=now.year,
        budget=90000,
        min_choices=1,
        max_choices=2,
        project_ids=[p.pk for p in projects],
        at=now - dt.timedelta(days=90),
    )
    ballots = 0
    for person in people:
        if rng.random() < 0.45:
            choice = rng.sample(projects, rng.randint(1, 2))
            if sum(p.cost for p in choice) > round_.budget:
                choice = choice[:1]
            services.cast_ballot(
                person, round_id=round_.pk, project_ids=[p.pk for p in choice], at=now - dt.timedelta(days=80)
            )
            ballots += 1
    services.close_vote(staff, round_id=round_.pk, at=now - dt.timedelta(days=75))
    for project in projects:
        project.refresh_from_db()
        if project.status == "selected":
            services.project_step(staff, project_id=project.pk, action="deliver", at=now - dt.timedelta(days=60))
            services.project_step(
                staff,
                project_id=project.pk,
                action="serve",
                served=rng.randint(80, 300),
                at=now - dt.timedelta(days=30),
            )
            if rng.random() < 0.5:
                services.project_step(staff, project_id=project.pk, action="finish", at=now - dt.timedelta(days=10))
    return ballots


def _volunteering(community, staff, people, rng, first_month, now):
    volunteers = rng.sample(people, len(people) // 2)
    rewards = [services.add_reward(staff, community=community, name=n, cost=c, stock=s) for n, c, s in REWARDS]
    activities = 0
    month = first_month
    while month < now - dt.timedelta(days=3):
        starts = _at(month, rng.randint(3, 25), 9)
        if starts >= now:
            break
        activity = services.create_activity(
            staff,
            community=community,
            title=rng.choice(ACTIVITIES),
            starts_at=starts,
            place="社区",
            capacity=12,
            points_per_hour=10,
        )
        activities += 1
        for person in rng.sample(volunteers, rng.randint(2, 5)):
            signup = services.sign_up(person, activity_id=activity.pk, at=starts - dt.timedelta(days=2))
            services.check_in_volunteer(staff, signup_id=signup.pk, at=starts)
            services.verify_hours(
                staff,
                signup_id=signup.pk,
                hours=rng.choice([1, 1.5, 2, 2.5, 3]),
                bank=rng.random() < 0.15,
                at=starts + dt.timedelta(hours=4),
            )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    # Exchanges at the desk, from residents with enough points.
    for account in Account.objects.filter(community=community, kind="resident", balance__gte=60).order_by("pk"):
        reward = rng.choice([r for r in rewards if r.cost <= account.balance] or rewards[:1])
        if reward.cost <= account.balance and rng.random() < 0.6:
            services.redeem(
                staff, user=account.user, reward_id=reward.pk, at=now - dt.timedelta(days=rng.randint(1, 60))
            )
    return activities
