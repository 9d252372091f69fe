import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { SIGN_IN_SCOPES, callbackUrl, signOutUrl } from '../shared/auth/dashboard-client';
import { ROLES, type Role } from '../shared/auth/principal';
import type { Settings } from './settings';

export interface AuthProps {
  settings: Settings;
}

/**
 * Who may sign in: a Cognito user pool whose groups are the roles the API knows (`cognito:groups`
 * in every access token), its hosted sign-in pages, and the dashboard's app client.
 *
 * Accounts are created by an administrator and put in a group: nobody signs themselves up, so
 * nobody can give themselves a role (docs/decisions.md).
 */
export class Auth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly domain: cognito.UserPoolDomain;
  readonly groups = new Map<Role, cognito.CfnUserPoolGroup>();
  private client?: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);
    const { settings } = props;
    this.userPool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      standardAttributes: { email: { required: true, mutable: true } },
      autoVerify: { email: true },
      userInvitation: {
        emailSubject: 'Your EventFlow account',
        emailBody: 'Sign in to EventFlow as {username} with the temporary password {####}; you will choose your own and set up an authenticator app.',
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      // Every account can reach orders of real customers or operate the system: a password alone is not enough.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus: threat protection blocks sign-ins from compromised credentials and risky sign-in attempts.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: settings.protectData,
      removalPolicy: settings.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const role of ROLES) {
      this.groups.set(role, new cognito.CfnUserPoolGroup(this, `${role}-group`, {
        userPoolId: this.userPool.userPoolId,
        groupName: role,
        description: role === 'operator' ? 'Operates EventFlow: every order, inventory, payments, queues' : 'Places orders and follows their own',
      }));
    }
    // The prefix must be unique in the region across all accounts: the account id makes it so.
    this.domain = this.userPool.addDomain('SignIn', {
      cognitoDomain: { domainPrefix: `eventflow-${settings.env}-${Aws.ACCOUNT_ID}` },
    });
  }

  /**
   * The dashboard's client: public (a browser keeps no secret), authorization code with PKCE, back to
   * the site's /auth/callback/ and, after sign-out, to its root. Tokens live an hour; the refresh
   * token renews them for 12 hours, then the user signs in again.
   */
  addDashboardClient(siteUrl: string): cognito.UserPoolClient {
    if (this.client) throw new Error('the dashboard client exists already');
    this.client = this.userPool.addClient('Dashboard', {
      generateSecret: false,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: SIGN_IN_SCOPES.cognito.map((s) => cognito.OAuthScope.custom(s)),
        callbackUrls: [callbackUrl(siteUrl)],
        logoutUrls: [signOutUrl(siteUrl)],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      authSessionValidity: Duration.minutes(5),
    });
    // Passwords are typed on the hosted pages only, never sent to the API by a script (no SRP,
    // no USER_PASSWORD_AUTH); left out, Cognito would allow SRP and custom auth.
    (this.client.node.defaultChild as cognito.CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];
    return this.client;
  }

  get dashboardClient(): cognito.UserPoolClient {
    if (!this.client) throw new Error('the dashboard client has not been added');
    return this.client;
  }

  /** https://cognito-idp.{region}.amazonaws.com/{poolId}: the `iss` of the pool's tokens and its discovery document's base. */
  get issuerUrl(): string {
    return `${this.issuerOrigin}/${this.userPool.userPoolId}`;
  }

  /** The issuer's origin, for the dashboard's Content-Security-Policy (discovery is fetched from it). */
  get issuerOrigin(): string {
    return `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`;
  }

  /** https://{prefix}.auth.{region}.amazoncognito.com: the hosted sign-in pages and the token endpoint. */
  get signInBaseUrl(): string {
    return this.domain.baseUrl();
  }

  /**
   * Cognito's discovery document names no end_session_endpoint: sign-out goes to the domain's
   * /logout with the client id and the registered logout URL.
   */
  logoutUrl(siteUrl: string): string {
    return `${this.signInBaseUrl}/logout?client_id=${this.dashboardClient.userPoolClientId}&logout_uri=${signOutUrl(siteUrl)}`;
  }
}
