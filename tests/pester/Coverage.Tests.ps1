# Every cmdlet is run by some test of this suite, not only imported. The parser finds the commands each *.Tests.ps1
# file calls inside It and its setup blocks (BeforeAll, BeforeEach, AfterEach, AfterAll); a name given to Mock,
# Should -Invoke or Get-Help is an argument, not a call, so it does not count.
#
# $Covered lists the 23 cmdlets of the first milestone, the ones this suite covers. Each must be exported and called.
# A cmdlet exported beyond the list (Save-VirtHostSnapshot, New-/Remove-VirtHostSandbox, Test-PciPassthrough, ...)
# passes when some test file calls it and is reported as skipped otherwise, so this file never fails for a cmdlet
# that another branch adds before its tests land. Whoever adds tests for one adds its name here.
BeforeDiscovery {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $Covered = @(
        'Get-UsbDevice', 'Get-UsbIpExport', 'Get-UsbIpPort', 'Get-UsbIpCapacity'
        'Export-UsbIpDevice', 'Remove-UsbIpExport', 'Get-UsbIpDevice', 'Start-UsbIpServer', 'Stop-UsbIpServer'
        'Connect-UsbIpDevice', 'Disconnect-UsbIpDevice'
        'Get-PciDevice', 'Get-PciIrqShare', 'Get-IommuGroup', 'Set-PciPassthrough', 'Remove-PciPassthrough'
        'Get-KsmStats', 'Set-KsmConfig'
        'Get-VirtHost', 'Test-VirtHost'
        'Get-VirtHostConfig', 'Export-VirtHostConfig', 'Test-VirtHostConfig', 'Sync-VirtHostConfig'
    )
    $listed = $Covered | ForEach-Object { @{ Name = $_ } }
    $unlisted = Get-Command -Module VirtTools -CommandType Cmdlet | Where-Object Name -notin $Covered | ForEach-Object { @{ Name = $_.Name } }
}
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force

    # The names of the commands called inside the Pester blocks that run with a test, in every test file here.
    function Get-CalledCommand([string[]] $Path) {
        $blocks = 'It', 'BeforeAll', 'BeforeEach', 'AfterEach', 'AfterAll'
        foreach ($file in $Path) {
            $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref] $null, [ref] $null)
            $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] -and $node.GetCommandName() -in $blocks }, $true) |
                ForEach-Object { $_.CommandElements.Where({ $_ -is [System.Management.Automation.Language.ScriptBlockExpressionAst] }) } |
                ForEach-Object { $_.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true) } |
                ForEach-Object { $_.GetCommandName() }
        }
    }
    $called = Get-CalledCommand (Get-ChildItem "$PSScriptRoot/*.Tests.ps1").FullName | Sort-Object -Unique
}

Describe 'The 23 cmdlets this suite covers' {
    It '<Name> is exported' -ForEach $listed {
        Get-Command -Module VirtTools -Name $Name -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty
    }

    It '<Name> is called by some test' -ForEach $listed {
        $called | Should -Contain $Name
    }
}

Describe 'Cmdlets exported beyond that list' {
    It '<Name> is called by some test' -ForEach $unlisted {
        if ($Name -notin $called) { Set-ItResult -Skipped -Because "no test calls $Name yet: add its tests, and its name to `$Covered in Coverage.Tests.ps1" }
    }
}

Describe 'The coverage check itself' {
    It 'counts a call, not a name given to Mock or Should -Invoke' {
        $file = "$TestDrive/Sample.Tests.ps1"
        Set-Content $file @'
Describe 'sample' {
    BeforeAll { Mock Set-PciPassthrough { } }
    It 'calls one' { Get-PciDevice | Out-Null; Should -Invoke Set-PciPassthrough -Times 0 }
}
'@
        $sample = Get-CalledCommand $file
        $sample | Should -Contain 'Get-PciDevice'
        $sample | Should -Not -Contain 'Set-PciPassthrough'
    }
}

Describe 'Get-TreeState, on which every -WhatIf test relies' {
    BeforeEach {
        $tree = New-Item -ItemType Directory "$TestDrive/tree-$([guid]::NewGuid())"
        New-Item -ItemType Directory "$tree/driver" | Out-Null
        Set-Content "$tree/pages_to_scan" 100
        $before = Get-TreeState $tree
    }

    It 'sees a value written again unchanged, by its write time' {
        Set-Content "$tree/pages_to_scan" 100
        Compare-Object $before (Get-TreeState $tree) | Should -Not -BeNullOrEmpty
    }

    It 'sees a new symlink and a new file' {
        New-Item -ItemType SymbolicLink -Path "$tree/driver/link" -Target ../pages_to_scan | Out-Null
        Compare-Object $before (Get-TreeState $tree) | Should -HaveCount 1
        Set-Content "$tree/record.json" '{}'
        Compare-Object $before (Get-TreeState $tree) | Should -HaveCount 2
    }

    It 'sees nothing when nothing was written' {
        Get-Content "$tree/pages_to_scan" | Out-Null
        Compare-Object $before (Get-TreeState $tree) | Should -BeNullOrEmpty
    }
}
