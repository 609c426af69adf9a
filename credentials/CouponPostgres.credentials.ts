import type { ICredentialType, INodeProperties } from 'n8n-workflow';

export class CouponPostgres implements ICredentialType {
	name = 'couponPostgres';

	displayName = 'Coupon PostgreSQL';

	icon = { light: 'file:couponPostgres.svg', dark: 'file:couponPostgres.dark.svg' } as const;

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-coupons#database-storage-postgresql';

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: 'localhost',
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 5432,
		},
		{
			displayName: 'Database',
			name: 'database',
			type: 'string',
			default: 'postgres',
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: 'postgres',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			options: [
				{
					name: 'Disable',
					value: 'disable',
					description: 'No encryption, for a database on the same host or a private network',
				},
				{
					name: 'Allow',
					value: 'allow',
					description: 'Encrypt without checking the server certificate (no plain fallback)',
				},
				{
					name: 'Require',
					value: 'require',
					description: 'Encrypt without checking the server certificate, as libpq\'s "require"',
				},
				{
					name: 'Require and Verify Certificate',
					value: 'verify',
					description: 'Encrypt and check the server certificate against the trusted authorities',
				},
			],
			default: 'disable',
		},
		{
			displayName: 'Schema',
			name: 'schema',
			type: 'string',
			default: 'coupons',
			description:
				'The schema that holds the coupon tables; created on first use. Letters, digits and underscores.',
		},
		{
			displayName: 'Max Connections',
			name: 'maxConnections',
			type: 'number',
			default: 10,
			typeOptions: { minValue: 1, maxValue: 100, numberPrecision: 0 },
			description: 'Most connections each n8n process (main or worker) opens to this database',
		},
	];
}
