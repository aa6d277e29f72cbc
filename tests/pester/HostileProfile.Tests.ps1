# Hostile host profiles (issue 14, item 2) in a real pwsh: each is one error with its ErrorId and file:line:column,
# caught by -ErrorAction Stop and try/catch, and the session goes on. Before the bounded reader, the nesting case
# overflowed the stack and ended pwsh itself, and the alias-key chain never returned. Profiles are plain files, so
# they live in $TestDrive.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
}

Describe 'Get-VirtHostConfig on a hostile profile' {
    It 'reports <Name> as <ErrorId> at <Where>' -ForEach @(
        @{
            Name = 'an unclosed flow mapping before a key'; ErrorId = 'VirtHostConfigInvalid'; Where = 'host.yaml:4:1: the YAML is malformed here'
            Write = { param($path) [IO.File]::WriteAllText($path, "usbip:`n  exports:`n    - match: {vendorId: `"46f4`", productId: `"0001`"`nksm: {pagesToScan: 100}`n") }
        }
        @{
            Name = '100,000 nested ['; ErrorId = 'VirtHostConfigTooDeep'; Where = 'host.yaml:1:37: lists and mappings nest more than 32 levels'
            Write = { param($path) [IO.File]::WriteAllText($path, ('ksm: ' + ('[' * 100000) + "`n")) }
        }
        @{
            Name = 'an alias-key chain 11 deep'; ErrorId = 'VirtHostConfigInvalid'; Where = 'host.yaml:2:12: a key must be a plain name'
            Write = {
                param($path)
                $lines = @('k0: &k0 {lol: lol}') + (1..11 | ForEach-Object { "k${_}: &k${_} {? *k$($_ - 1) : *k$($_ - 1), ? [*k$($_ - 1)] : 1}" }) +
                    @('? *k11', ': 1', '? *k11', ': 2')
                Set-Content $path $lines
            }
        }
        @{
            Name = 'a 300 MB line'; ErrorId = 'VirtHostConfigTooLarge'; Where = 'host.yaml: 314,572,800 bytes, more than the 262,144 bytes'
            Write = {
                param($path)
                # sparse: no disk is spent, and a reader that reads it whole still pays 300 MB
                $file = [IO.File]::Create($path)
                try { $file.Write([Text.Encoding]::UTF8.GetBytes('ksm: ')); $file.SetLength(300MB) } finally { $file.Dispose() }
            }
        }
    ) {
        $path = Join-Path $TestDrive 'host.yaml'
        & $Write $path
        try {
            $failure = { Get-VirtHostConfig -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId "$ErrorId,VirtTools.Commands.Config.GetVirtHostConfigCommand" -PassThru
            $failure.TargetObject | Should -Be $path
            $failure.Exception.Message | Should -BeLike "*$Where*"
            $failure.Exception.Message | Should -Not -BeLike '*Operation is not valid*'

            $caught = try { Test-VirtHostConfig -Path $path -Root $TestDrive -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }
            $caught | Should -Be "$ErrorId,VirtTools.Commands.Config.TestVirtHostConfigCommand"
        }
        finally { Remove-Item $path }
    }
}
