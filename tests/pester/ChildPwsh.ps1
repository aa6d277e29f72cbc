# A fresh pwsh for what a session cannot undo (assemblies never unload): a test that loads a conflicting YamlDotNet, or
# installs the module under a private HOME, runs its script in a child of the pwsh running Pester. Dot-source it.

# Runs $Script (a script block's text, with a param() block) in a child pwsh with $ArgumentList, under $Environment
# added to this process's environment; returns what the script output, through JSON. Throws with the child's output
# when it fails.
function Invoke-ChildPwsh {
    param(
        [Parameter(Mandatory)] [scriptblock] $Script,
        [object[]] $ArgumentList = @(),
        [hashtable] $Environment = @{}
    )
    # pwsh run as a .NET tool is `dotnet pwsh.dll` (pwsh.dll beside PowerShell's own assemblies); an installed pwsh is
    # its own executable.
    $executable = [Environment]::ProcessPath
    $pwshDll = Join-Path ([IO.Path]::GetDirectoryName([psobject].Assembly.Location)) 'pwsh.dll'
    $pwsh = @(if ([IO.Path]::GetFileNameWithoutExtension($executable) -eq 'dotnet') { $pwshDll })
    $literals = foreach ($argument in $ArgumentList) { "'" + ([string]$argument -replace "'", "''") + "'" }
    $command = "`$ErrorActionPreference = 'Stop'; & {$Script} $($literals -join ' ') | ConvertTo-Json -Depth 4 -Compress"
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($command))

    $saved = @{}
    foreach ($name in $Environment.Keys) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $Environment[$name])
    }
    try {
        $output = & $executable @pwsh -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | Out-String
        $exitCode = $LASTEXITCODE
    }
    finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
    if ($exitCode -ne 0) { throw "The child pwsh failed (exit code $exitCode):`n$output" }
    # The JSON is the last line; anything before it is what the script wrote to the host.
    ($output.Trim() -split "`n")[-1] | ConvertFrom-Json
}
