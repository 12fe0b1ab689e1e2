"""Realistic article texts shared by the NLP, safety and script-writer tests."""

from __future__ import annotations

EN_TITLE = "Seoul raises subway fares for the first time in eight years"

EN_ARTICLE = """\
Seoul will raise subway fares for the first time in eight years, the city government \
said on Tuesday. The basic subway fare will rise by 150 won to 1,400 won in October, and \
bus fares will follow in January. Officials said the increase is needed to cover deficits \
at Seoul Metro, the city's subway operator.

Seoul Metro lost 1.2 trillion won last year, its largest deficit since 2015. Dr. Lee \
Ji-won, a transport economist at Korea University, said the operator has been squeezed \
by free rides for seniors and by rising electricity prices. "The fare has not kept up \
with costs," she said. The city estimates the fare increase will raise about 300 billion \
won a year.

Commuter groups criticised the decision. They said higher subway fares hit low-income \
workers hardest, because they travel the longest distances. The city said discounts for \
young people and seniors would remain, and that a monthly climate pass would stay at \
62,000 won.

Ridership has not yet returned to its level before the pandemic. About 7.2 million \
passengers used the subway each day in 2019, compared with 6.5 million last year. Mayor \
Oh Se-hoon said the city would also invest in new trains and safer stations.
"""

KO_TITLE = "서울시, 8년 만에 지하철 요금 인상"

KO_ARTICLE = """\
서울시가 8년 만에 지하철 기본요금을 인상한다. 서울시는 오는 10월부터 지하철 기본요금을 \
1,250원에서 1,400원으로 150원 올린다고 화요일 밝혔다. 버스 요금도 내년 1월부터 같은 폭으로 \
오른다.

시는 서울교통공사의 적자를 메우기 위해 요금 인상이 불가피하다고 설명했다. 서울교통공사는 \
지난해 1조 2천억 원의 적자를 기록했다. 노인 무임승차와 전기요금 상승이 적자의 주요 원인으로 \
꼽힌다.

시민단체는 요금 인상이 저소득층에 큰 부담이 된다며 반발했다. 출퇴근 거리가 긴 노동자일수록 \
교통비 부담이 커진다는 지적이다. 서울시는 청년과 노인을 위한 할인 제도는 그대로 유지한다고 \
밝혔다.

지하철 이용객은 아직 코로나19 이전 수준을 회복하지 못했다. 2019년 하루 평균 720만 명이던 \
이용객은 지난해 650만 명에 그쳤다. 서울시는 노후 전동차 교체와 역사 안전 시설 확충에도 \
투자할 계획이다.
"""
