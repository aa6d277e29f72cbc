# Sandboxes in real pwsh against the installed-layout module: the Pester example of about_VirtTools_Testing runs as a
# user would run it (its own pwsh, Invoke-Pester, Import-Module VirtTools by name), and the cmdlets keep their promises.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force

    # Sandboxes go to the temp folder by default: on tmpfs when the machine has one, as the xunit trees do, because
    # unpacking 9,000 entries on a loaded disk takes tens of seconds (child processes inherit this).
    $script:previousTemp = $env:TMPDIR
    if (Test-Path /dev/shm -PathType Container) { $env:TMPDIR = '/dev/shm/' }

    # The indented block after "# MyHost.Tests.ps1" in the topic the module ships, as the file a user would save.
    function Get-TopicExample([string] $Topic) {
        $lines = Get-Content -Path (Join-Path (Split-Path $ModuleManifest) "en-US/$Topic.help.txt")
        $start = [array]::IndexOf($lines, '        # MyHost.Tests.ps1')
        if ($start -lt 0) { throw "$Topic has no '# MyHost.Tests.ps1' example" }
        $block = foreach ($line in $lines[$start..($lines.Count - 1)]) {
            if ($line -and -not $line.StartsWith('        ')) { break }
            if ($line) { $line.Substring(8) } else { '' }
        }
        $block -join "`n"
    }

    # This pwsh again, as a new process: `dotnet pwsh.dll` when it runs as a .NET tool.
    function Invoke-ChildPwsh([string] $Command) {
        $self = (Get-Process -Id $PID).Path
        $arguments = @('-NoProfile', '-NonInteractive', '-Command', $Command)
        if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { $arguments = @([Environment]::GetCommandLineArgs()[0]) + $arguments }
        & $self @arguments
    }
}

AfterAll {
    $env:TMPDIR = $script:previousTemp
}

Describe 'The Pester example of about_VirtTools_Testing' {
    It 'passes all its tests when a user runs it with Invoke-Pester' {
        $file = Join-Path $TestDrive 'MyHost.Tests.ps1'
        Set-Content -Path $file -Value (Get-TopicExample 'about_VirtTools_Testing')
        $modules = Split-Path (Split-Path $ModuleManifest)
        $pester = (Get-Module Pester).Path
        $previous = $env:PSModulePath
        $env:PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath
        try {
            $output = Invoke-ChildPwsh "Import-Module '$pester'; `$r = Invoke-Pester -Path '$file' -PassThru -Output Detailed; 'RESULT {0} {1}' -f `$r.PassedCount, (`$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount)"
        }
        finally { $env:PSModulePath = $previous }
        $result = $output | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1
        $result | Should -Be 'RESULT 3 0' -Because ($output -join "`n")
    }
}

Describe 'New-VirtHostSandbox' {
    It 'refuses a -Path inside the TestDrive, and creates nothing there' {
        { New-VirtHostSandbox -Path (Join-Path $TestDrive 'host') } | Should -Throw -ErrorId 'SandboxInsideTestDrive,*'
        Join-Path $TestDrive 'host' | Should -Not -Exist
    }

    It 'creates nothing with -WhatIf' {
        $path = Join-Path ([IO.Path]::GetTempPath()) "virttools-whatif-$([guid]::NewGuid())"
        New-VirtHostSandbox -Path $path -WhatIf | Should -BeNullOrEmpty
        $path | Should -Not -Exist
    }
}

Describe 'Save-VirtHostSnapshot and New-VirtHostSandbox -Snapshot' {
    BeforeAll {
        $root = New-FixtureCopy
        $archive = Join-Path ([IO.Path]::GetTempPath()) "virttools-snapshot-$([guid]::NewGuid()).tgz"
        $snapshot = Save-VirtHostSnapshot -Path $archive -Root $root
        $sandbox = New-VirtHostSandbox -Snapshot $archive
    }
    AfterAll {
        if ($sandbox) { Remove-VirtHostSandbox $sandbox }
        Remove-Item -Path $archive -ErrorAction SilentlyContinue
        Remove-FixtureCopy $root
    }

    It 'makes a sandbox that reads as the tree it was taken from' {
        $snapshot.Path | Should -Be $archive
        (Get-UsbDevice -Root $sandbox.Root).BusId | Should -Be (Get-UsbDevice -Root $root).BusId
        (Get-PciDevice -Root $sandbox.Root).Driver | Should -Be (Get-PciDevice -Root $root).Driver
    }

    It 'gives the sandbox the kernel: exporting a device makes usbip-host take it' {
        Remove-UsbIpExport -BusId 2-3 -Root $sandbox.Root -Force -Confirm:$false
        Export-UsbIpDevice -BusId 2-3 -Root $sandbox.Root -Confirm:$false
        (Get-UsbDevice -BusId 2-3 -Root $sandbox.Root).Driver | Should -Be 'usbip-host'
        $sandbox.Writes.SystemPath | Should -Contain '/sys/bus/usb/drivers/usbip-host/match_busid'
    }
}

Describe 'Remove-VirtHostSandbox' {
    It 'deletes the sandbox and leaves what its symlinks point at' {
        $sandbox = New-VirtHostSandbox
        $outside = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "virttools-outside-$([guid]::NewGuid())")
        try {
            Set-Content -Path (Join-Path $outside 'keep') -Value 'x'
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $sandbox.Root 'sys/outside') -Target $outside.FullName
            $sandbox | Remove-VirtHostSandbox
            $sandbox.Root | Should -Not -Exist
            Join-Path $outside 'keep' | Should -Exist
        }
        finally { Remove-Item -Recurse -Force $outside }
    }

    It 'refuses a folder that is not a sandbox' {
        $root = New-FixtureCopy
        try {
            { Remove-VirtHostSandbox -Path $root -ErrorAction Stop } | Should -Throw -ErrorId 'NotAVirtHostSandbox,*'
            $root | Should -Exist
        }
        finally { Remove-FixtureCopy $root }
    }
}
