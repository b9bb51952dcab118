/**
 * The IdP's directory: organisations, projects, users, applications and service users,
 * with the lookups the endpoints need. Credentials live here in the form a server keeps
 * them (secrets and public keys); the private halves exist only in returned key files.
 */
import type { KeyObject } from 'node:crypto';
import type { ApiApp, Org, Project, ServiceUser, User, WebApp } from './types.js';

/** An API application as the server sees it: its public keys by `kid`. */
export interface ApiClient {
  readonly kind: 'api';
  readonly app: ApiApp;
  readonly keys: Map<string, KeyObject>;
}

/** A user-agent application. */
export interface WebClient {
  readonly kind: 'web';
  readonly app: WebApp;
}

/** A service user with its public keys by `kid`. */
export interface ServiceUserRecord {
  readonly user: ServiceUser;
  readonly keys: Map<string, KeyObject>;
}

/** Who a request authenticated as. */
export type Client = ApiClient | WebClient;

export class Store {
  readonly orgs = new Map<string, Org>();
  readonly projects = new Map<string, Project>();
  readonly users = new Map<string, User>();
  readonly clients = new Map<string, Client>();
  readonly serviceUsers = new Map<string, ServiceUserRecord>();

  org(id: string): Org {
    const org = this.orgs.get(id);
    if (org === undefined) throw new TypeError(`@zitauth/testing: unknown org ${id}`);
    return org;
  }

  project(id: string): Project {
    const project = this.projects.get(id);
    if (project === undefined) throw new TypeError(`@zitauth/testing: unknown project ${id}`);
    return project;
  }

  /** A human user by user name, login name or email (as the login page accepts). */
  userByLogin(login: string): User | undefined {
    const wanted = login.trim().toLowerCase();
    for (const user of this.users.values()) {
      const names = [user.userName, user.loginName, user.email].map((n) => n.toLowerCase());
      if (names.includes(wanted)) return user;
    }
    return undefined;
  }

  /** A service user by its client id (the user name). */
  serviceUserByClientId(clientId: string): ServiceUserRecord | undefined {
    for (const record of this.serviceUsers.values()) {
      if (record.user.clientId === clientId) return record;
    }
    return undefined;
  }

  /** Display name, user name and email of a known user or service user, for profile claims. */
  profileOf(subject: string): Profile | undefined {
    const user = this.users.get(subject);
    if (user !== undefined) {
      return {
        userName: user.loginName,
        givenName: user.givenName,
        familyName: user.familyName,
        email: user.email,
      };
    }
    const machine = this.serviceUsers.get(subject)?.user;
    if (machine === undefined) return undefined;
    return {
      userName: machine.userName,
      givenName: undefined,
      familyName: undefined,
      email: undefined,
    };
  }
}

/** What profile and email claims are built from. */
export interface Profile {
  userName: string;
  givenName: string | undefined;
  familyName: string | undefined;
  email: string | undefined;
}
