import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '.cache/**', 'node_modules/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Feature folders of the VS Code layer know each other by type only: what one needs of
    // another at run time comes through the composition root (extension.ts) or a command id.
    files: ['src/extension/*/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../demo/*',
                '../insights/*',
                '../lenses/*',
                '../receiver/*',
                '../scaffold/*',
                '../traces-view/*',
                '../waterfall/*',
              ],
              allowTypeImports: true,
              message:
                'Another feature folder: import its types only; wire values in extension.ts or run its command (shared/commands.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'src/core must not import vscode.' }] },
      ],
    },
  },
);
