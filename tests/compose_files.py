"""Compose files in the style of widely used public examples (docker/awesome-compose and the
Docker docs), shared by the Compose tests, and how those tests load them."""
from __future__ import annotations

import pytest

from netlab.compose import load_source
from netlab.errors import TopologyError
from netlab.model.source import parse_text

FILE = "/srv/demo/compose.yaml"     # where the tests' Compose files say they are: project demo


def load(text: str, **kw):
    """`text` as the Compose file FILE; `env`: the environment it is interpolated with."""
    return load_source(parse_text(text, FILE), env=kw.pop("env", {}), **kw)


def errors(text: str, **kw) -> list[str]:
    """The diagnostics loading `text` fails with."""
    with pytest.raises(TopologyError) as e:
        load(text, **kw)
    return [str(d) for d in e.value.diagnostics]


# awesome-compose nginx-flask-mysql: a proxy in front of a Flask backend, MariaDB behind it
NGINX_FLASK_MYSQL = """\
services:
  db:
    image: mariadb:10-focal
    command: '--default-authentication-plugin=mysql_native_password'
    restart: always
    healthcheck:
      test: ['CMD-SHELL', 'mysqladmin ping -h 127.0.0.1 --password="$$(cat /run/secrets/db-password)" --silent']
      interval: 3s
      retries: 5
      start_period: 30s
    secrets:
      - db-password
    volumes:
      - db-data:/var/lib/mysql
    networks:
      - backnet
    environment:
      - MYSQL_DATABASE=example
      - MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db-password
    expose:
      - 3306
      - 33060
  backend:
    build:
      context: backend
      target: builder
    restart: always
    secrets:
      - db-password
    ports:
      - 8000:8000
    networks:
      - backnet
      - frontnet
    depends_on:
      db:
        condition: service_healthy
  proxy:
    build: proxy
    restart: always
    ports:
      - 80:80
    depends_on:
      - backend
    networks:
      - frontnet
volumes:
  db-data: {}
secrets:
  db-password:
    file: db/password.txt
networks:
  backnet:
  frontnet:
"""

# the Docker docs' WordPress with MySQL, the database on an internal backend network
WORDPRESS_MYSQL = """\
name: wp
services:
  db:
    image: mysql:8.0
    volumes:
      - db_data:/var/lib/mysql
    restart: always
    environment:
      MYSQL_ROOT_PASSWORD: somewordpress
      MYSQL_DATABASE: wordpress
    networks:
      backend:
        aliases: [mysql]
    expose: ["3306"]
  wordpress:
    depends_on:
      - db
    image: wordpress:latest
    ports:
      - "8000:80"
    restart: always
    environment:
      WORDPRESS_DB_HOST: db:3306
    networks:
      - frontend
      - backend
volumes:
  db_data: {}
networks:
  frontend:
  backend:
    internal: true
    ipam:
      config:
        - subnet: 172.28.0.0/24
          gateway: 172.28.0.1
          ip_range: 172.28.0.128/25
          aux_addresses:
            router: 172.28.0.2
"""

# a macvlan network on the host's LAN, as in the Docker docs' macvlan tutorial
MACVLAN = """\
name: mvlan
services:
  pihole:
    image: pihole/pihole
    hostname: pihole
    networks:
      lan:
        ipv4_address: 10.10.101.50
  web:
    image: nginx
    networks: [lan]
networks:
  lan:
    driver: macvlan
    driver_opts:
      parent: eth0
    ipam:
      config:
        - subnet: 10.10.101.0/24
          gateway: 10.10.101.254
          ip_range: 10.10.101.64/26
"""

# replicas, a sidecar in the service's namespace, long-syntax ports, profiles, links
REPLICAS = """\
name: shop
services:
  api:
    image: api
    deploy:
      replicas: 3
      resources: {limits: {cpus: '0.5'}}
    expose: [8080]
  sidecar:
    image: envoy
    network_mode: "service:api"
  gateway:
    image: traefik
    ports:
      - target: 80
        published: 8080
        host_ip: 127.0.0.1
        protocol: tcp
        mode: host
      - target: 53
        published: "5353"
        protocol: udp
      - target: 9000
    links:
      - api:backend
    depends_on: [api]
  debug:
    image: busybox
    profiles: [debug]
  monitor:
    image: prom/node-exporter
    network_mode: host
    ports: ["9100:9100"]
"""
